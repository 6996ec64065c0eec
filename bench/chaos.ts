// Soak test (npm run chaos): nothing is lost and nothing is duplicated while processes die.
// Two API processes and two workers on one database and one DATA_DIR; N jobs (default 30) with a
// webhook to a local receiver. While they run, a random worker is SIGKILLed every few seconds (and
// restarted), one API process is killed once (and restarted), and every vidq PostgreSQL session is
// terminated once. It ends when every job is terminal and every delivery settled, then reports jobs by
// status, job.completed requests per job (exactly one webhook-id each, none missing), and anything left
// behind (processes, temp and scratch files). Exit code 1 on any loss, duplicate or leftover.
// A worker is killed every KILL_EVERY seconds or so (with jitter), once it has lived 4 s. A run in which
// no worker could be killed (the jobs all ended first) fails: it would have tested nothing.
//
//   npm run chaos [-- --jobs 30 --kill-every 5]        (DATABASE_URL: use that server, else embedded)
import { execFileSync } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiKey } from '../src/auth/keys';
import { createUser } from '../src/auth/users';
import { connectDatabase } from '../src/db/client';
import { makeVideo } from '../test/helpers/media';
import { benchDatabase } from './lib/database';
import { type Child, freePort, runBench, spawnNode } from './lib/process';

const { values: args } = parseArgs({ options: { jobs: { type: 'string' }, 'kill-every': { type: 'string' } } });
const JOBS = Number(args.jobs ?? 30);
const KILL_EVERY_MS = Number(args['kill-every'] ?? 5) * 1000;
/** A worker lives at least this long before it may be killed again, so that jobs make progress. */
const MIN_LIFE_MS = 4000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (...parts: unknown[]) => console.log(`[chaos ${new Date().toISOString().slice(11, 23)}]`, ...parts);

interface Received {
  jobId: string;
  webhookId: string;
  type: string;
}

/** The webhook receiver: answers 200 and records which event it got for which job. */
async function startReceiver() {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        const event = JSON.parse(body) as { type: string; data: { job: { id: string } } };
        received.push({ jobId: event.data.job.id, webhookId: String(req.headers['webhook-id']), type: event.type });
      } catch {
        // not a vidq event: counted nowhere
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

const GQL_UPLOAD = `mutation($file: Upload!, $key: String) { uploadVideo(input: { file: $file, idempotencyKey: $key }) {
  __typename ... on UploadVideoSuccess { video { id } } ... on Error { code message } } }`;
const GQL_SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) {
  __typename ... on SubmitJobSuccess { job { id } } ... on Error { code message } } }`;

async function main(): Promise<boolean> {
  const bench = await benchDatabase();
  cleanups.push(() => bench.close());
  const receiver = await startReceiver();
  cleanups.push(() => receiver.close());
  const db = connectDatabase(bench.url, { max: 2 });
  cleanups.push(() => db.close());
  const user = await createUser(db.db, { name: 'chaos', isAdmin: false, credits: 1_000_000 });
  const { key } = await createApiKey(db.db, user.id);
  // Long enough that the jobs are still running when the workers become killable (a quiet machine
  // finished 30 jobs of a 2 s clip in 4 s, before any kill).
  const clip = await makeVideo(path.join(bench.dataDir, '..'), { format: 'mp4', seconds: 8, width: 640, height: 360 });

  const common = {
    ...process.env,
    DATABASE_URL: bench.url,
    DATA_DIR: bench.dataDir,
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    // A worker is killed every few seconds, so a job may lose several attempts to crashes: each counts
    // as one of its automatic retries, and this run is about losing nothing, not about that budget.
    JOB_MAX_RETRIES: '20',
    SHUTDOWN_GRACE_SECONDS: '5',
  };
  const apiPorts = [await freePort(), await freePort()];
  const processes = new Map<string, Child>();
  const start = (name: string, env: Record<string, string>) => {
    const child = spawnNode(['bin/vidq.js', 'serve'], { env: { ...common, ...env }, stdout: 'ignore', stderr: 'ignore' });
    processes.set(name, child);
    return child;
  };
  const startApi = (i: number) => start(`api${i}`, { ROLE: 'api', PORT: String(apiPorts[i]), HOST: '127.0.0.1' });
  const bornAt = new Map<string, number>();
  const startWorker = (i: number) => {
    bornAt.set(`worker${i}`, Date.now());
    return start(`worker${i}`, { ROLE: 'worker' });
  };
  cleanups.push(async () => {
    for (const child of processes.values()) await child.stop(10_000);
  });
  startApi(0);
  startApi(1);
  startWorker(0);
  startWorker(1);

  /** A GraphQL call that survives an API process being down: tries the other one. */
  async function graphql(i: number, body: BodyInit, headers: Record<string, string> = {}): Promise<Record<string, any>> {
    for (let tries = 0; tries < 60; tries++) {
      const port = apiPorts[(i + tries) % 2];
      try {
        const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${key}`, ...headers }, body });
        if (res.ok) return (await res.json()) as Record<string, any>;
      } catch {
        // refused or reset: that process is down
      }
      await sleep(500);
    }
    throw new Error('no API process answered for 30 s');
  }

  log(`uploading ${JOBS} clips and submitting ${JOBS} jobs through two API processes`);
  const jobIds: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: GQL_UPLOAD, variables: { file: null, key: `chaos-upload-${i}` } }));
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    form.set('0', await openAsBlob(clip), 'clip.mp4');
    const uploaded = await graphql(i, form);
    const video = uploaded.data?.uploadVideo?.video;
    if (!video) throw new Error(`upload ${i} failed: ${JSON.stringify(uploaded)}`);
    const input = { videoId: video.id, model: 'FAST', webhookUrl: receiver.url, idempotencyKey: `chaos-job-${i}` };
    const submitted = await graphql(i, JSON.stringify({ query: GQL_SUBMIT, variables: { input } }), { 'content-type': 'application/json' });
    const job = submitted.data?.submitJob?.job;
    if (!job) throw new Error(`submit ${i} failed: ${JSON.stringify(submitted)}`);
    jobIds.push(job.id);
  }

  const counts = async () =>
    Object.fromEntries((await db.sql`select status, count(*)::int as n from jobs group by status`).map((r) => [r.status, r.n])) as Record<string, number>;
  const terminal = (c: Record<string, number>) => (c.COMPLETED ?? 0) + (c.FAILED ?? 0) + (c.TIMED_OUT ?? 0) + (c.CANCELLED ?? 0);

  const chaos = { workerKills: 0, apiKill: false, terminated: 0 };
  const began = Date.now();
  let nextKill = Date.now() + KILL_EVERY_MS;
  for (;;) {
    const c = await counts();
    const done = terminal(c);
    if (done === JOBS) break;
    if (Date.now() - began > 15 * 60_000) throw new Error(`jobs still running after 15 minutes: ${JSON.stringify(c)}`);
    if (!chaos.apiKill && done >= JOBS * 0.2) {
      chaos.apiKill = true;
      log('SIGKILL api0, restarting it');
      processes.get('api0')!.process.kill('SIGKILL');
      await processes.get('api0')!.exited;
      startApi(0);
    }
    if (!chaos.terminated && done >= JOBS * 0.4) {
      const [row] = await db.sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where datname = current_database() and application_name like 'vidq%' and pid <> pg_backend_pid()`;
      chaos.terminated = row.n;
      log(`pg_terminate_backend on every vidq session: ${row.n} sessions`);
    }
    const killable = ['worker0', 'worker1'].filter((n) => Date.now() - bornAt.get(n)! >= MIN_LIFE_MS);
    if (Date.now() >= nextKill && done < JOBS * 0.9 && killable.length) {
      const name = killable[Math.floor(Math.random() * killable.length)];
      log(`SIGKILL ${name} (${done}/${JOBS} jobs finished), restarting it`);
      processes.get(name)!.process.kill('SIGKILL'); // the worker only: its ffmpeg must die with it
      await processes.get(name)!.exited;
      chaos.workerKills++;
      startWorker(Number(name.slice(-1)));
      nextKill = Date.now() + KILL_EVERY_MS * (0.5 + Math.random());
    }
    await sleep(250);
  }
  log(`all ${JOBS} jobs terminal after ${((Date.now() - began) / 1000).toFixed(0)} s; waiting for the deliveries to settle`);
  for (let i = 0; i < 240; i++) {
    const [row] = await db.sql`select count(*)::int as n from webhook_deliveries where status = 'PENDING'`;
    if (row.n === 0) break;
    await sleep(500);
  }
  await sleep(2000); // anything sent twice would arrive now
  for (const child of processes.values()) await child.stop(15_000);

  // The report.
  const byStatus = await counts();
  const completedIds = new Map<string, Set<string>>();
  const completedRequests = new Map<string, number>();
  for (const r of receiver.received.filter((r) => r.type === 'job.completed')) {
    completedIds.set(r.jobId, (completedIds.get(r.jobId) ?? new Set()).add(r.webhookId));
    completedRequests.set(r.jobId, (completedRequests.get(r.jobId) ?? 0) + 1);
  }
  const missing = jobIds.filter((id) => !completedIds.has(id));
  const duplicated = jobIds.filter((id) => (completedIds.get(id)?.size ?? 0) > 1);
  const resent = jobIds.filter((id) => (completedRequests.get(id) ?? 0) > 1);
  const [pending] = await db.sql`select count(*)::int as n from webhook_deliveries where status <> 'DELIVERED'`;
  const leftoverProcesses = stray(bench.dataDir);
  const leftoverFiles = await filesUnder(path.join(bench.dataDir, 'uploads', '.tmp'));
  const leftoverScratch = await filesUnder(path.join(bench.dataDir, 'scratch'));

  console.log('\nchaos report');
  console.log(`  chaos: ${chaos.workerKills} worker SIGKILLs, 1 API SIGKILL, ${chaos.terminated} sessions terminated once`);
  console.log(`  jobs by status: ${JSON.stringify(byStatus)} (all ${JOBS} COMPLETED expected)`);
  console.log(
    `  job.completed webhooks: ${completedIds.size} of ${JOBS} jobs received one; missing ${missing.length}; with two different webhook-ids ${duplicated.length}`,
  );
  console.log(`  the same webhook-id sent again (an attempt lost with its worker: at-least-once, receivers dedupe by webhook-id): ${resent.length} jobs`);
  console.log(`  deliveries not DELIVERED: ${pending.n}`);
  console.log(`  leftover processes: ${leftoverProcesses.length ? leftoverProcesses.join('; ') : 'none'}`);
  console.log(
    `  leftover temp files: ${leftoverFiles.length ? leftoverFiles.join(', ') : 'none'}; scratch files: ${leftoverScratch.length ? leftoverScratch.join(', ') : 'none'}`,
  );
  if (chaos.workerKills === 0) console.log('  no worker was killed: the jobs all ended first (run more or longer jobs)');
  const ok =
    chaos.workerKills > 0 &&
    byStatus.COMPLETED === JOBS &&
    !missing.length &&
    !duplicated.length &&
    pending.n === 0 &&
    !leftoverProcesses.length &&
    !leftoverFiles.length &&
    !leftoverScratch.length;
  console.log(ok ? '  PASS: nothing lost, nothing duplicated, nothing left behind' : '  FAIL');
  return ok;
}

/** Processes still running that work on this run's files (an orphaned ffmpeg, a vidq that did not exit). */
function stray(dataDir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(dataDir) || (line.includes('bin/vidq.js') && line.includes(process.pid.toString())))
    .filter((line) => !line.includes(' ps -eo'))
    .map((line) => line.trim().slice(0, 160));
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const cleanups: Array<() => Promise<unknown>> = [];
runBench(main, async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});
