// Job system benchmarks, all in one run on one database (npx tsx bench/jobs.ts):
//   (a) pickup latency: submitJob → STARTED, p50/p99 over N trivial jobs (target p50 ≤ 10 ms)
//   (b) throughput of trivial jobs vs raw pg-boss send/work, same database and concurrency (target ≥ 0.5)
//   (c) timeout precision: how long after its deadline a hung job is TIMED_OUT (target ≤ 2 s)
//   (d) crash recovery: SIGKILL of a worker process mid-job → STARTED on another worker (target p50 ≤ 2 s)
// Times are read from the database clock (event rows), so both ends use the same clock.
// Options: JOBS=200 (a, b), TIMEOUTS=10 (c), CRASHES=5 (d), SECTIONS=a,b,c,d (which to run).
import fs from 'node:fs/promises';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { PgBoss } from 'pg-boss';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/client';
import { jobEvents, jobs } from '../src/db/schema/index';
import { insertVideoRow } from '../test/helpers/rows';
import { submitJob } from '../src/jobs/submit';
import { createLogger } from '../src/logger';
import { StageAbortedError, STAGES } from '../src/pipeline/index';
import { LEASE_LOCK_CLASS } from '../src/db/process-lease';
import { startRuntime } from '../src/runtime';
import { createUser } from '../src/auth/users';
import { startWorkers } from '../src/workers';
import { makeFaultyFfmpeg } from '../test/helpers/faulty-ffmpeg';
import { binaries, makeVideo } from '../test/helpers/media';
import { benchDatabase, percentile } from './lib/database';
import { spawnNode, waitFor } from './lib/process';

const N = Number(process.env.JOBS ?? 200);
const TIMEOUTS = Number(process.env.TIMEOUTS ?? 10);
const CRASHES = Number(process.env.CRASHES ?? 5);
const SECTIONS = new Set((process.env.SECTIONS ?? 'a,b,c,d').split(','));
const CONCURRENCY = 2;

// Bench-only stages: one that does nothing, one that hangs until it is stopped.
STAGES.push({ name: 'noop', description: 'bench: does nothing', run: async () => ({ output: {}, files: [] }) });
STAGES.push({
  name: 'hang',
  description: 'bench: waits until stopped',
  run: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new StageAbortedError(ctx.signal.reason)))),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main() {
  const bench = await benchDatabase();
  const clipDir = path.join(bench.dataDir, 'uploads', 'bench'); // where uploads live: jobs refuse sources elsewhere
  await fs.mkdir(clipDir, { recursive: true });
  const clip = await makeVideo(clipDir, { format: 'mp4', seconds: 1 });
  const baseEnv = {
    DATABASE_URL: bench.url,
    DATA_DIR: bench.dataDir,
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: String(CONCURRENCY),
  };
  const results: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const runtime = await startRuntime(loadConfig({ ...baseEnv, JOB_STAGES: 'noop' }), createLogger('warn'));
    const { services } = runtime;
    // The bench's own connection, for seeding and reading results across the runtimes it starts.
    const benchDb = connectDatabase(bench.url, { max: 2 });
    closers.push(() => benchDb.close());
    const db = benchDb.db;
    const user = await createUser(db, { name: 'bench', isAdmin: true, credits: 1_000_000 });
    const viewer = { id: user.id, name: user.name, isAdmin: true, keyId: 'bench' };
    const storagePath = path.relative(bench.dataDir, clip);
    const newVideo = async () => {
      const v = await insertVideoRow(db, user.id, { storagePath });
      return v.id;
    };
    const eventAt = async (jobId: string, type: string) => {
      const [e] = await db
        .select({ at: jobEvents.at })
        .from(jobEvents)
        .where(and(eq(jobEvents.jobId, jobId), eq(jobEvents.type, type)));
      return e?.at ?? null;
    };
    const statusOf = async (jobId: string) => (await db.select({ s: jobs.status }).from(jobs).where(eq(jobs.id, jobId)))[0]?.s;

    // (a) pickup latency, one job at a time so that nothing queues behind another.
    const workers = await startWorkers(services);
    await sleep(1000);
    const pickups: number[] = [];
    for (let i = 0; SECTIONS.has('a') && i < N; i++) {
      const job = await submitJob(services, viewer, { videoId: await newVideo(), model: 'FAST' });
      await waitFor('completion', async () => ((await statusOf(job.id)) === 'COMPLETED' ? true : null), 30_000);
      const queued = await eventAt(job.id, 'QUEUED');
      const started = await eventAt(job.id, 'STARTED');
      pickups.push(started!.getTime() - queued!.getTime());
    }
    if (SECTIONS.has('a'))
      results.push(`(a) pickup latency over ${N} trivial jobs: p50 ${fmt(percentile(pickups, 50))}, p99 ${fmt(percentile(pickups, 99))} (target p50 ≤ 10 ms)`);

    if (SECTIONS.has('b')) {
      // (b) throughput: N jobs submitted by 10 concurrent clients, until the last one completes.
      const videoIds = await Promise.all(Array.from({ length: N }, () => newVideo()));
      let t0 = performance.now();
      const submitted: string[] = [];
      await Promise.all(
        Array.from({ length: 10 }, async (_, w) => {
          for (let i = w; i < N; i += 10) submitted.push((await submitJob(services, viewer, { videoId: videoIds[i], model: 'FAST' })).id);
        }),
      );
      await waitFor(
        'all jobs to complete',
        async () => {
          const rows = await benchDb.sql`select count(*)::int as n from jobs where status = 'COMPLETED' and id = any(${submitted})`;
          return rows[0].n === N ? true : null;
        },
        300_000,
      );
      const vidqSeconds = (performance.now() - t0) / 1000;
      await workers.stop();

      const raw = new PgBoss({ connectionString: bench.url, schema: 'pgboss', supervise: false, schedule: false });
      raw.on('error', () => {});
      await raw.start();
      await raw.createQueue('bench-raw', { notify: true });
      let done = 0;
      await raw.work('bench-raw', { localConcurrency: CONCURRENCY, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 }, async () => {
        done++;
      });
      t0 = performance.now();
      await Promise.all(
        Array.from({ length: 10 }, async (_, w) => {
          for (let i = w; i < N; i += 10) await raw.send('bench-raw', { i });
        }),
      );
      await waitFor('raw jobs', async () => (done >= N ? true : null), 300_000);
      const rawSeconds = (performance.now() - t0) / 1000;
      await raw.stop({ graceful: false, close: true });
      const ratio = N / vidqSeconds / (N / rawSeconds);
      results.push(
        `(b) throughput of ${N} trivial jobs, ${CONCURRENCY} workers: vidq ${(N / vidqSeconds).toFixed(1)} jobs/s, raw pg-boss ${(N / rawSeconds).toFixed(1)} jobs/s, ratio ${ratio.toFixed(2)} (target ≥ 0.5)`,
      );
    } else {
      await workers.stop();
    }
    await runtime.close();

    if (SECTIONS.has('c')) {
      // (c) timeout precision: a stage that hangs, a 2 s limit.
      const hangRuntime = await startRuntime(loadConfig({ ...baseEnv, JOB_STAGES: 'hang' }), createLogger('warn'));
      const hangWorkers = await startWorkers(hangRuntime.services);
      const lateness: number[] = [];
      for (let i = 0; i < TIMEOUTS; i++) {
        const job = await submitJob(hangRuntime.services, viewer, { videoId: await newVideo(), model: 'FAST', timeoutSeconds: 2 });
        await waitFor('timeout', async () => ((await statusOf(job.id)) === 'TIMED_OUT' ? true : null), 30_000);
        const [row] = await db.select().from(jobs).where(eq(jobs.id, job.id));
        const timedOut = await eventAt(job.id, 'TIMED_OUT');
        lateness.push(timedOut!.getTime() - row.deadlineAt!.getTime());
      }
      results.push(
        `(c) timeout precision over ${TIMEOUTS} jobs: TIMED_OUT after the deadline by p50 ${fmt(percentile(lateness, 50))}, max ${fmt(Math.max(...lateness))} (target ≤ 2 s)`,
      );
      await hangWorkers.stop();
      await hangRuntime.close();
    }
    if (SECTIONS.has('d')) {
      // (d) crash recovery: a worker process hangs in transcode, is SIGKILLed, another takes the job over.
      const apiRuntime = await startRuntime(loadConfig({ ...baseEnv, ROLE: 'api', JOB_STAGES: 'transcode' }), createLogger('warn'));
      const recoveries: number[] = [];
      for (let i = 0; i < CRASHES; i++) {
        const hang = await makeFaultyFfmpeg(path.join(bench.dataDir, 'ffmpeg'), { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'hang', when: 'libx264' });
        const workerEnv = { ...process.env, ...baseEnv, ROLE: 'worker', JOB_STAGES: 'transcode', FFMPEG_PATH: hang.path };
        const job = await submitJob(apiRuntime.services, viewer, { videoId: await newVideo(), model: 'FAST' });
        const first = spawnNode(['bin/vidq.js', 'serve'], { env: workerEnv });
        first.process.stdout?.resume();
        await waitFor('the transcode to hang', async () => ((await hang.invocations()) === 1 ? true : null), 60_000);
        const leases = async () =>
          (await benchDb.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = ${LEASE_LOCK_CLASS}::oid`)[0].n as number;
        const before = await leases();
        const second = spawnNode(['bin/vidq.js', 'serve'], { env: workerEnv });
        second.process.stdout?.resume();
        // Boot time is not recovery: wait until the second worker is up (it holds its lease).
        await waitFor('the second worker', async () => ((await leases()) > before ? true : null), 60_000);
        await sleep(500);
        process.kill(-first.process.pid!, 'SIGKILL'); // the worker and its hung ffmpeg
        const [{ now }] = await benchDb.sql`select now()`;
        await waitFor(
          'recovery',
          async () => {
            const starts = await db
              .select({ at: jobEvents.at })
              .from(jobEvents)
              .where(and(eq(jobEvents.jobId, job.id), eq(jobEvents.type, 'STARTED')));
            return starts.length >= 2 ? true : null;
          },
          120_000,
        );
        const starts = await db
          .select({ at: jobEvents.at })
          .from(jobEvents)
          .where(and(eq(jobEvents.jobId, job.id), eq(jobEvents.type, 'STARTED')));
        recoveries.push(starts[1].at.getTime() - new Date(now as string).getTime());
        await waitFor('completion', async () => ((await statusOf(job.id)) === 'COMPLETED' ? true : null), 60_000);
        await second.stop(5000);
      }
      results.push(
        `(d) crash recovery over ${CRASHES} SIGKILLs: picked up again after p50 ${fmt(percentile(recoveries, 50))}, max ${fmt(Math.max(...recoveries))} (target p50 ≤ 2 s, moonshot ≤ 1 s; heartbeat 10 s as the backstop)`,
      );
      await apiRuntime.close();
    }
  } finally {
    for (const close of closers) await close();
    await bench.close();
    console.log(`\njobs bench (${process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL'}, Node ${process.version})`);
    for (const line of results) console.log(line);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
