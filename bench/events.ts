// Live status fan-out: SUBSCRIBERS (5,000) WebSocket subscribers of ONE job on ONE vidq API process,
// against a bare `ws` server broadcasting the same message to the same number of clients, in the same
// run, on the same machine and database.
//
//   npx tsx bench/events.ts      (SUBSCRIBERS, EVENTS, SPACING_MS, CLIENT_PROCESSES, BENCH_ROUNDS, DATABASE_URL;
//                                 BENCH_PROFILE=1 writes a CPU profile of the vidq server to bench/.out/,
//                                 BENCH_HEAP_DIFF=1 prints what each subscriber adds to each server's heap)
//
// In each of BENCH_ROUNDS (3) rounds, for each system (the order alternates between rounds):
//   - the server is a fresh child process (vidq: `node bin/vidq.js serve --role api`, what `npm start`
//     runs with ROLE=api; baseline: bench/lib/ws-broadcast-server.ts, which LISTENs on PostgreSQL and
//     sends one prebuilt string to every socket on each NOTIFY);
//   - the clients live in CLIENT_PROCESSES (2) other processes (bench/lib/ws-clients.ts), plain `ws`
//     clients speaking graphql-transport-ws to vidq (connection_init with an API key, then
//     `jobUpdated(jobId, afterSequence)`) and nothing to the baseline;
//   - this process commits EVENTS (20) state changes, one every SPACING_MS (1000): for vidq a real
//     PROGRESS event (appendJobEvent: the job_events row and its NOTIFY in one transaction, as a worker
//     does), for the baseline a bare pg_notify. t0 is when the COMMIT returned; each client records
//     when the message reached it; latency = arrival − t0, over every (subscriber, event) pair;
//   - server memory per connection = (RSS with every subscriber connected − RSS before) / SUBSCRIBERS,
//     each RSS read right after two forced full garbage collections (through the inspector: both
//     servers run with --inspect=127.0.0.1:0), so that it counts what connections hold, not garbage
//     not yet collected; the V8 heap's own delta is shown beside it.
// The baseline sends the bytes a vidq subscriber receives for an event, with the sequence swapped in.
// The ratios reported are the medians of the rounds' ratios.
// Targets: p99 ratio vidq / baseline ≤ 2; memory per subscriber ≤ 2× the baseline's.
// DATABASE_URL: use that server (a fresh database on it); otherwise an embedded PostgreSQL.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { eq } from 'drizzle-orm';
import { jobs } from '../src/db/schema/index';
import { createApiKey } from '../src/auth/keys';
import { createUser } from '../src/auth/users';
import { connectDatabase } from '../src/db/client';
import { insertJobRow, insertVideoRow } from '../test/helpers/rows';
import { appendJobEvent } from '../src/jobs/events';
import { benchDatabase, percentile } from './lib/database';
import { median } from './lib/load';
import { collectGarbage, heapSummary, inspectorUrl } from './lib/inspector';
import { firstLine, freePort, ROOT, spawnNode, waitFor } from './lib/process';

const N = Number(process.env.SUBSCRIBERS ?? 5000);
const EVENTS = Number(process.env.EVENTS ?? 20);
const CLIENT_PROCESSES = Number(process.env.CLIENT_PROCESSES ?? 2);
const SPACING_MS = Number(process.env.SPACING_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARM_UP_EVENTS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

/** RSS (from /proc, kB) and V8 heap used (bytes) after full collections. */
async function memory(pid: number, inspector: string) {
  const usage = await collectGarbage(inspector);
  await sleep(500);
  return { rssKb: rssKb(pid), heapUsed: usage.heapUsed };
}

/** BENCH_HEAP_DIFF=1: what each subscriber adds to the live heap, by constructor (heap snapshots). */
const HEAP_DIFF = process.env.BENCH_HEAP_DIFF === '1';

function printHeapDiff(name: string, before: Map<string, { count: number; bytes: number }>, after: Map<string, { count: number; bytes: number }>) {
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: (a.count - b.count) / N, bytes: (a.bytes - b.bytes) / N };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`  ${name}: live heap per subscriber ${total.toFixed(0)} bytes; largest parts (objects per subscriber, bytes):`);
  for (const r of rows.slice(0, 25)) console.log(`    ${r.key.padEnd(60)} ${r.count.toFixed(2).padStart(7)} ${r.bytes.toFixed(0).padStart(6)}`);
}

interface ClientProcess {
  child: ChildProcess;
  request<T>(command: Record<string, unknown>, reply: string): Promise<T>;
}

function startClients(env: Record<string, string>, count: number): Promise<ClientProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/ws-clients.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, COUNT: String(count) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const request = <T>(command: Record<string, unknown>, reply: string) =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`client process exited ${code}`));
      const onMessage = (message: { type: string }) => {
        if (message.type !== reply) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(command);
    });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve({ child, request }));
    child.once('exit', (code) => reject(new Error(`client process exited ${code} before starting`)));
  });
}

interface Round {
  name: string;
  p50: number;
  p99: number;
  max: number;
  samples: number;
  missing: number;
  kbPerConnection: number;
  heapKbPerConnection: number;
  rssBeforeMb: number;
  rssAfterMb: number;
}

/** Connects N clients to `target`, commits EVENTS changes through `trigger`, and measures. */
async function measure(opts: {
  name: string;
  serverPid: number;
  inspector: string;
  env: Record<string, string>;
  trigger: () => Promise<number>;
}): Promise<Round> {
  await sleep(1_000);
  const before = await memory(opts.serverPid, opts.inspector);
  const heapBefore = HEAP_DIFF ? await heapSummary(opts.inspector) : null;
  const perProcess = Math.ceil(N / CLIENT_PROCESSES);
  const clients = await Promise.all(Array.from({ length: CLIENT_PROCESSES }, (_, i) => startClients(opts.env, Math.min(perProcess, N - i * perProcess))));
  try {
    const t = performance.now();
    await Promise.all(clients.map((c) => c.request({ type: 'connect' }, 'connected')));
    console.log(`  ${opts.name}: ${N} clients connected in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const received = async (sequence: number) => {
      const counts = await Promise.all(clients.map((c) => c.request<{ n: number }>({ type: 'count', sequence }, 'count')));
      return counts.reduce((sum, c) => sum + c.n, 0);
    };
    // Subscriptions have no acknowledgement: the stream is live for everyone once everyone got an event.
    let warm = 0;
    for (let i = 0; i < 30 && warm < N; i++) {
      const sequence = await opts.trigger();
      await sleep(1_000);
      warm = await received(sequence);
    }
    if (warm < N) throw new Error(`${opts.name}: only ${warm} of ${N} subscribers received the warm-up events`);
    for (let i = 1; i < WARM_UP_EVENTS; i++) {
      await opts.trigger();
      await sleep(SPACING_MS);
    }
    await sleep(2_000);
    const after = await memory(opts.serverPid, opts.inspector);
    if (heapBefore) printHeapDiff(opts.name, heapBefore, await heapSummary(opts.inspector));
    await sleep(1_000);

    const t0 = new Map<number, number>();
    for (let i = 0; i < EVENTS; i++) {
      const sequence = await opts.trigger();
      t0.set(sequence, now());
      await sleep(SPACING_MS);
    }
    await sleep(1_000);
    const sequences = [...t0.keys()];
    const replies = await Promise.all(clients.map((c) => c.request<{ arrivals: number[][] }>({ type: 'arrivals', sequences }, 'arrivals')));
    const latencies: number[] = [];
    sequences.forEach((sequence, k) => {
      for (const reply of replies) for (const at of reply.arrivals[k]) latencies.push(at - t0.get(sequence)!);
    });
    return {
      name: opts.name,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
      samples: latencies.length,
      missing: N * EVENTS - latencies.length,
      kbPerConnection: (after.rssKb - before.rssKb) / N,
      heapKbPerConnection: (after.heapUsed - before.heapUsed) / 1024 / N,
      rssBeforeMb: before.rssKb / 1024,
      rssAfterMb: after.rssKb / 1024,
    };
  } finally {
    for (const c of clients) c.child.send({ type: 'close' });
    await Promise.all(clients.map((c) => new Promise((r) => (c.child.exitCode !== null ? r(null) : c.child.once('exit', r)))));
  }
}

async function main() {
  const bench = await benchDatabase();
  const benchDb = connectDatabase(bench.url, { max: 2 });
  const cleanups: Array<() => Promise<unknown>> = [() => bench.close(), () => benchDb.close()];
  try {
    // One user, one key, one job that is PROCESSING, as a worker would have left it.
    const db = benchDb.db;
    const user = await createUser(db, { name: 'bench', credits: 0 });
    const key = await createApiKey(db, user.id);
    const video = await insertVideoRow(db, user.id, { metadata: { durationSeconds: 60, width: 1280, height: 720, audioCodec: 'aac' } });
    const jobId = await insertJobRow(db, user.id, video.id, { status: 'PROCESSING' });
    let progress = 0;
    const commitProgress = async () => {
      progress = Math.min(0.999, progress + 0.001);
      const row = await db.transaction((tx) =>
        appendJobEvent(tx, jobId, { type: 'PROGRESS', status: 'PROCESSING', progress, stage: 'transcode', data: { stageProgress: progress } }),
      );
      return row.sequence;
    };
    await commitProgress();

    const env = { ...process.env };
    for (const name of ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'ROLE', 'EMBEDDED_PG_PORT']) delete env[name];

    async function runVidq(): Promise<Round> {
      const port = await freePort();
      const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', `--cpu-prof-dir=${path.join('bench', '.out')}`] : [];
      const server = spawnNode(['--inspect=127.0.0.1:0', ...profile, 'bin/vidq.js', 'serve', '--role', 'api'], {
        env: {
          ...env,
          DATABASE_URL: bench.url,
          DATA_DIR: bench.dataDir,
          PORT: String(port),
          HOST: '127.0.0.1',
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
          WS_MAX_CONNECTIONS_PER_KEY: String(N + 10),
        },
        stdout: 'ignore',
        stderr: 'pipe',
      });
      try {
        const inspector = await inspectorUrl(server.process.stderr!);
        await waitFor('vidq to serve', async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : null));
        const after = (await db.select({ s: jobs.lastSequence }).from(jobs).where(eq(jobs.id, jobId)))[0].s;
        return await measure({
          name: 'vidq',
          serverPid: server.process.pid!,
          inspector,
          env: { TARGET: `ws://127.0.0.1:${port}/graphql`, PROTOCOL: 'graphql', KEY: key.key, JOB_ID: jobId, AFTER: String(after) },
          trigger: commitProgress,
        });
      } finally {
        await server.stop();
      }
    }

    // The bytes a vidq subscriber receives for an event (the clients' selection, in its order), for the
    // baseline to send.
    const [last] = await benchDb.sql`select * from job_events where job_id = ${jobId} order by sequence desc limit 1`;
    const template = JSON.stringify({
      id: '1',
      type: 'next',
      payload: {
        data: {
          jobUpdated: {
            __typename: 'JobEvent',
            sequence: 0,
            jobId,
            type: last.type,
            status: last.status,
            progress: last.progress,
            stage: last.stage,
            at: new Date(last.at).toISOString(),
          },
        },
      },
    }).replace('"sequence":0', '"sequence":__SEQ__');
    let counter = 0;

    async function runBare(): Promise<Round> {
      const bare = spawnNode(['--inspect=127.0.0.1:0', '--import', 'tsx', 'bench/lib/ws-broadcast-server.ts'], {
        env: { ...env, DATABASE_URL: bench.url, CHANNEL: 'bench_broadcast', TEMPLATE: template },
        stderr: 'pipe',
      });
      try {
        const inspector = await inspectorUrl(bare.process.stderr!);
        const barePort = (JSON.parse(await firstLine(bare)) as { port: number }).port;
        return await measure({
          name: 'bare ws',
          serverPid: bare.process.pid!,
          inspector,
          env: { TARGET: `ws://127.0.0.1:${barePort}/`, PROTOCOL: 'bare' },
          trigger: async () => {
            counter++;
            await benchDb.sql`select pg_notify('bench_broadcast', ${String(counter)})`;
            return counter;
          },
        });
      } finally {
        await bare.stop();
      }
    }

    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const rows: string[] = [];
    const p99Ratios: number[] = [];
    const memRatios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // The order alternates, so that neither always runs on a warmer (or busier) machine.
      const [vidq, baseline] = round % 2 ? [await runVidq(), await runBare()] : [await runBare(), await runVidq()].reverse();
      p99Ratios.push(vidq.p99 / baseline.p99);
      memRatios.push(vidq.kbPerConnection / baseline.kbPerConnection);
      for (const r of [vidq, baseline]) {
        rows.push(
          `| ${round} | ${r.name} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.samples} (${r.missing}) | ${r.rssBeforeMb.toFixed(0)} → ${r.rssAfterMb.toFixed(0)} MB | ${r.kbPerConnection.toFixed(1)} KB | ${r.heapKbPerConnection.toFixed(1)} KB |`,
        );
      }
      console.log(`  round ${round}: p99 ratio ${p99Ratios.at(-1)!.toFixed(2)}, memory ratio ${memRatios.at(-1)!.toFixed(2)}`);
    }
    console.log(`\n${N} subscribers of one job, ${EVENTS} events ${SPACING_MS} ms apart, clients in ${CLIENT_PROCESSES} processes, ${ROUNDS} round(s)`);
    console.log('| round | server | p50 | p99 | max | samples (missing) | RSS before → with subscribers | RSS per subscriber | V8 heap per subscriber |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
    const p99Ratio = median(p99Ratios);
    const memRatio = median(memRatios);
    console.log(`\np99 ratio vidq / bare ws (median of rounds): ${p99Ratio.toFixed(2)} (target ≤ 2) ${p99Ratio <= 2 ? 'OK' : 'MISSED'}`);
    console.log(`memory per subscriber vidq / bare ws (median of rounds): ${memRatio.toFixed(2)} (target ≤ 2) ${memRatio <= 2 ? 'OK' : 'MISSED'}`);
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch((error) => console.error('cleanup:', error));
  }
}

await main();
