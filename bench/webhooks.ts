// Webhook delivery benchmark (npx tsx bench/webhooks.ts), all in one run against one receiver:
//   baseline  a plain fetch() POST loop to the receiver, at the worker's concurrency (WEBHOOK_CONCURRENCY)
//   drain     N terminal events published in one transaction; a `vidq serve --role worker` process
//             delivers them: deliveries per second from the first request to the last (the ratio's figure)
//   burst     N events published while the worker runs: end to end, publishing included, and latency
//             from the event's `at` to the request reaching the receiver
//   paced     events published at a steady RATE per second: the latency without a backlog
//   failing   a burst while 10% of the receiver's answers are 500: published = delivered + failed, none
//             missing, no event accepted twice
//   crash     a worker SIGKILLed while the receiver holds its request, another worker running: time from
//             the kill to the event's delivery (the retry reaching the receiver), CRASHES times (target p50 ≤ 6 s)
// The receiver is a child process of its own (this file with --receiver); it stamps each request when
// its headers arrive (Date.now(), same machine clock as the publisher) and reads the event's createdAt
// from the body. Events are published exactly as finishJob publishes them: enqueueJobWebhooks in a
// transaction, one event per transaction, for a synthetic job whose webhookUrl is the receiver.
// Options: EVENTS=1000, ROUNDS=7 (baseline and drain, alternating), RATE=50 (paced, for 5 s),
// CONCURRENCY=40 (WEBHOOK_CONCURRENCY of the worker, its default), CRASHES=5, BENCH_PROFILE=1 (CPU profiles in bench/.out).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { PgBoss } from 'pg-boss';
import { createUser } from '../src/auth/users';
import { connectDatabase } from '../src/db/client';
import { newId } from '../src/db/ids';
import { LEASE_LOCK_CLASS } from '../src/db/process-lease';
import { PGBOSS_SCHEMA } from '../src/queue/queues';
import { enqueueJobWebhooks } from '../src/webhooks/events';
import { benchDatabase, percentile } from './lib/database';
import { median } from './lib/load';
import { firstLine, runBench, spawnNode, waitFor } from './lib/process';
import type { JobRow } from '../src/db/schema/index';

const TARGET_RATIO = 0.5;
const EVENTS = Number(process.env.EVENTS ?? 1000);
const RATE = Number(process.env.RATE ?? 50);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 40);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const CRASHES = Number(process.env.CRASHES ?? 5);
const CRASH_TARGET_MS = 6000;

// ---------------------------------------------------------------------------------------------------
// The receiver (child process).

interface Hit {
  id: string;
  at: number;
  createdAt: number;
  status: number;
}

function runReceiver() {
  let hits: Hit[] = [];
  let failRate = 0;
  let hangFirst = false; // the first request of each event is never answered (its worker is about to die)
  const server = http.createServer((req, res) => {
    const at = Date.now(); // headers have arrived: the request's first bytes
    if (req.url === '/_stats') return void res.end(JSON.stringify(hits));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/_reset')) {
        const params = new URL(req.url, 'http://x').searchParams;
        failRate = Number(params.get('failRate') ?? 0);
        hangFirst = params.get('hangFirst') === '1';
        hits = [];
        return void res.end('{}');
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { createdAt: string };
      const id = String(req.headers['webhook-id']);
      if (hangFirst && !hits.some((h) => h.id === id)) return void hits.push({ id, at, createdAt: Date.parse(body.createdAt), status: 0 });
      const status = Math.random() < failRate ? 500 : 200;
      hits.push({ id: String(req.headers['webhook-id']), at, createdAt: Date.parse(body.createdAt), status });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'try again');
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------------
// The benchmark.

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) await fn().catch((error) => console.error('cleanup:', error));
  cleanups.length = 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function syntheticJob(ownerId: string, webhookUrl: string): JobRow {
  const now = new Date();
  return {
    id: newId('job'),
    videoId: newId('vid'),
    ownerId,
    status: 'COMPLETED',
    stage: null,
    progress: 1,
    attempt: 1,
    maxAttempts: 4,
    options: { model: 'FAST', outputFormat: 'MP4', background: null },
    pipeline: 'default',
    stageOptions: {},
    requestId: null,
    webhookUrl,
    timeoutSeconds: 3600,
    deadlineAt: null,
    costCredits: 1,
    queueJobId: null,
    workerLock: null,
    idempotencyKey: null,
    error: null,
    lastSequence: 6,
    createdAt: now,
    startedAt: now,
    finishedAt: now,
    updatedAt: now,
  };
}

async function main() {
  console.log(
    `Webhook benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${EVENTS} events per burst, ` +
      `worker concurrency ${CONCURRENCY}, database: ${process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL'}`,
  );
  const receiverChild = spawnNode(['--import', 'tsx', 'bench/webhooks.ts', '--receiver']);
  cleanups.push(() => receiverChild.stop());
  const { port } = JSON.parse(await firstLine(receiverChild)) as { port: number };
  const receiverUrl = `http://127.0.0.1:${port}`;
  const reset = (failRate = 0, hangFirst = false) =>
    fetch(`${receiverUrl}/_reset?failRate=${failRate}&hangFirst=${hangFirst ? 1 : 0}`, { method: 'POST' }).then((r) => r.text());
  const stats = async () => (await (await fetch(`${receiverUrl}/_stats`)).json()) as Hit[];

  const bench = await benchDatabase();
  cleanups.push(() => bench.close());
  const database = connectDatabase(bench.url, { max: 10, applicationName: 'vidq-bench' });
  cleanups.push(() => database.close());

  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'PORT', 'ROLE', 'EMBEDDED_PG_PORT']) delete env[name];
  const prof = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', 'bench/.out'] : [];
  const workerEnv = {
    ...env,
    DATABASE_URL: bench.url,
    DATA_DIR: bench.dataDir,
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    WEBHOOK_RETRY_BASE_SECONDS: '0.2',
  };
  const worker = spawnNode([...prof, 'bin/vidq.js', 'serve', '--role', 'worker'], { env: workerEnv, stderr: 'inherit', stdout: 'inherit' });
  cleanups.push(() => worker.stop(20_000));
  // The worker creates the queues at start; publish only once they exist.
  const boss = new PgBoss({ connectionString: bench.url, schema: PGBOSS_SCHEMA, supervise: false, schedule: false, max: 5 });
  boss.on('error', (error) => console.error('publisher queue error:', error));
  await waitFor('the worker to create its queues', async () => {
    const rows = await database.sql`select 1 from pgboss.queue where name = 'webhook-delivery'`.catch(() => []);
    return rows.length ? true : null;
  });
  await boss.start();
  cleanups.push(() => boss.stop({ graceful: false, close: true }));
  const owner = await createUser(database.db, { name: 'bench', credits: 0 });
  const hookUrl = `${receiverUrl}/hooks`;

  const publish = () => database.db.transaction((tx) => enqueueJobWebhooks(tx, boss, syntheticJob(owner.id, hookUrl), { at: new Date() }));
  async function publishBurst(n: number) {
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next++ < n) await publish();
      }),
    );
  }
  async function settled(expected: number) {
    await waitFor(
      'every delivery to settle',
      async () => {
        const [row] = await database.sql`select count(*) filter (where status <> 'PENDING')::int as done from webhook_deliveries`;
        return row.done >= expected ? true : null;
      },
      300_000,
    );
  }
  const clearDeliveries = () => database.sql`truncate webhook_deliveries cascade`;

  async function vidqBurst(n: number, failRate = 0) {
    await clearDeliveries();
    await reset(failRate);
    const started = Date.now();
    await publishBurst(n);
    await settled(n);
    const seconds = (Date.now() - started) / 1000;
    const hits = await stats();
    const firstByEvent = new Map<string, Hit>();
    for (const h of hits) if (!firstByEvent.has(h.id)) firstByEvent.set(h.id, h);
    const latencies = [...firstByEvent.values()].map((h) => h.at - h.createdAt);
    return { seconds, perSecond: n / seconds, latencies, hits };
  }

  /**
   * Deliveries alone: N events published in one transaction, so that the running worker finds them all
   * at once when it commits; deliveries per second from the first request to the last.
   */
  async function vidqDrain(n: number) {
    await clearDeliveries();
    await reset(0);
    await database.db.transaction(async (tx) => {
      for (let i = 0; i < n; i++) await enqueueJobWebhooks(tx, boss, syntheticJob(owner.id, hookUrl), { at: new Date() });
    });
    await settled(n);
    const hits = await stats();
    const times = hits.map((h) => h.at);
    const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
    return { seconds, perSecond: n / seconds, latencies: hits.map((h) => h.at - h.createdAt), hits };
  }

  async function baseline(n: number) {
    await reset(0);
    const body = (await database.sql`select body from webhook_deliveries limit 1`)[0]?.body as string | undefined;
    const template = JSON.parse(body ?? '{"type":"job.completed","data":{}}') as Record<string, unknown>;
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < n) {
          const id = newId('evt');
          const res = await fetch(hookUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'webhook-id': id },
            body: JSON.stringify({ ...template, id, createdAt: new Date().toISOString() }),
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`baseline: HTTP ${res.status}`);
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const hits = await stats();
    return { seconds, perSecond: n / seconds, latencies: hits.map((h) => h.at - h.createdAt) };
  }

  // A drain's latencies only say how long its backlog took; they are not printed.
  const line = (name: string, r: { perSecond: number; latencies: number[] }, withLatency = true) =>
    console.log(
      `  ${name.padEnd(26)} ${fmt(r.perSecond).padStart(6)} /s` +
        (withLatency
          ? `   latency p50 ${fmt(percentile(r.latencies, 50))} ms  p99 ${fmt(percentile(r.latencies, 99))} ms  max ${fmt(Math.max(...r.latencies))} ms`
          : ''),
    );

  // Warm-up: JIT, pools, PostgreSQL caches. Not counted.
  await vidqBurst(Math.min(300, EVENTS));
  await baseline(Math.min(300, EVENTS));

  // Rounds of baseline and drain, in alternating order so that neither always runs on a machine warmed
  // (or tired) by the other; the ratio is the median of the rounds' ratios.
  const rounds: Array<{ base: Awaited<ReturnType<typeof baseline>>; drain: Awaited<ReturnType<typeof vidqDrain>> }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    let base;
    let drain;
    if (round % 2) {
      base = await baseline(EVENTS);
      drain = await vidqDrain(EVENTS);
    } else {
      drain = await vidqDrain(EVENTS);
      base = await baseline(EVENTS);
    }
    line(`round ${round} fetch() POST loop`, base);
    line(`round ${round} vidq drain`, drain, false);
    rounds.push({ base, drain });
  }
  const burst = await vidqBurst(EVENTS);
  line('vidq burst (end to end)', burst);
  const duplicates = [...rounds.map((r) => r.drain), burst].reduce((sum, r) => sum + r.hits.length - new Set(r.hits.map((h) => h.id)).size, 0);

  // Paced: RATE events per second for 5 seconds, each published on time.
  await clearDeliveries();
  await reset(0);
  const paced = RATE * 5;
  const t0 = Date.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < paced; i++) {
    const due = t0 + (i * 1000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    inFlight.push(publish());
  }
  await Promise.all(inFlight);
  await settled(paced);
  const pacedHits = await stats();
  line(`vidq paced (${RATE}/s)`, { perSecond: paced / 5, latencies: pacedHits.map((h) => h.at - h.createdAt) });

  const failing = await vidqBurst(EVENTS, 0.1);
  line('vidq burst, 10% 500s', failing);
  const [counts] = await database.sql`select count(*)::int as published,
      count(*) filter (where status = 'DELIVERED')::int as delivered,
      count(*) filter (where status = 'FAILED')::int as failed,
      count(*) filter (where status = 'PENDING')::int as pending,
      coalesce(sum(attempts), 0)::int as attempts
    from webhook_deliveries`;
  const accepted = failing.hits.filter((h) => h.status === 200);
  const acceptedTwice = accepted.length - new Set(accepted.map((h) => h.id)).size;
  const refused = failing.hits.filter((h) => h.status !== 200).length;

  const ratios = rounds.map((r) => r.drain.perSecond / r.base.perSecond);
  const ratio = median(ratios);
  console.log(
    `fetch loop ${fmt(median(rounds.map((r) => r.base.perSecond)))}/s, vidq drain ${fmt(median(rounds.map((r) => r.drain.perSecond)))}/s (medians); ratios ${ratios.map((r) => fmt(r, 2)).join(', ')}`,
  );
  console.log('');
  console.log(`throughput ratio vidq / fetch loop : ${fmt(ratio, 2)} (target ≥ ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'OK' : 'BELOW TARGET'}`);
  console.log(
    `drains and burst: ${EVENTS} published each, ${[...rounds.map((r) => r.drain), burst].map((r) => new Set(r.hits.map((h) => h.id)).size).join(', ')} received, ${duplicates} received twice`,
  );
  console.log(
    `10% failing: published ${counts.published} = delivered ${counts.delivered} + failed ${counts.failed} (pending ${counts.pending}); ` +
      `${counts.attempts} attempts, ${refused} answered 500, ${acceptedTwice} events accepted twice`,
  );
  // crash: the main worker goes; two of their own take turns dying with a request in flight.
  await worker.stop(20_000);
  const leases = async () =>
    (await database.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = ${LEASE_LOCK_CLASS}::oid`)[0].n as number;
  const spawnWorker = () => {
    const child = spawnNode(['bin/vidq.js', 'serve', '--role', 'worker'], { env: workerEnv, stdout: 'ignore' });
    cleanups.push(() => child.stop(10_000));
    return child;
  };
  let current = spawnWorker();
  await waitFor('a worker', async () => ((await leases()) >= 1 ? true : null));
  const recoveries: number[] = [];
  for (let i = 0; i < CRASHES; i++) {
    await reset(0, true);
    const [delivery] = await publish();
    await waitFor('the request to be held', async () => ((await stats()).length ? true : null), 30_000);
    const next = spawnWorker();
    await waitFor('the second worker', async () => ((await leases()) >= 2 ? true : null), 60_000);
    const killedAt = Date.now();
    current.process.kill('SIGKILL');
    await current.exited;
    const delivered = await waitFor('the retry', async () => (await stats()).find((h) => h.status === 200 && h.id === delivery.eventId) ?? null, 60_000);
    recoveries.push(delivered.at - killedAt);
    current = next;
  }
  await current.stop(10_000);
  const crashP50 = percentile(recoveries, 50);
  console.log(
    `crash: worker SIGKILLed with a request in flight → delivered after p50 ${fmt(crashP50)} ms, max ${fmt(Math.max(...recoveries))} ms over ${CRASHES} kills ` +
      `(target p50 ≤ ${CRASH_TARGET_MS} ms) ${crashP50 <= CRASH_TARGET_MS ? 'OK' : 'BELOW TARGET'}`,
  );

  const complete = counts.published === EVENTS && counts.published === counts.delivered + counts.failed && counts.pending === 0 && acceptedTwice === 0;
  console.log(`none missing: ${complete ? 'OK' : 'NO'}`);
  return ratio >= TARGET_RATIO && complete && duplicates === 0 && crashP50 <= CRASH_TARGET_MS;
}

if (process.argv.includes('--receiver')) {
  runReceiver();
} else {
  runBench(main, cleanup);
}
