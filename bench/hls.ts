// HLS ladder bench (npx tsx bench/hls.ts): the `hls` stage inside a vidq job against the same ffmpeg
// command line run directly, on the same source, alternating, in one run. The figure is vidq's stage
// time (STAGE_STARTED → STAGE_COMPLETED, stamped by PostgreSQL) over the bare command's wall time;
// target ≤ 1.1 (vidq adds only bookkeeping: the master playlist, renaming, describing files, events).
// Options: SECONDS=20 (source length), HEIGHT=1080, ROUNDS=3.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { createUser } from '../src/auth/users';
import { loadConfig } from '../src/config';
import { jobEvents, jobs } from '../src/db/schema/index';
import { submitJob } from '../src/jobs/submit';
import { createLogger } from '../src/logger';
import { resolveBinaries, runFfmpeg } from '../src/pipeline/index';
import { probeVideo } from '../src/pipeline/probe';
import { hlsArgs, ladderFor } from '../src/pipeline/stages/hls';
import { startRuntime } from '../src/runtime';
import { startWorkers } from '../src/workers';
import { ffmpeg } from '../test/helpers/media';
import { insertVideoRow } from '../test/helpers/rows';
import { benchDatabase, percentile } from './lib/database';
import { waitFor } from './lib/process';

const SECONDS = Number(process.env.SECONDS ?? 20);
const HEIGHT = Number(process.env.HEIGHT ?? 1080);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

async function main() {
  const bench = await benchDatabase();
  const clipDir = path.join(bench.dataDir, 'uploads', 'bench');
  await fs.mkdir(clipDir, { recursive: true });
  const clip = path.join(clipDir, 'source.mp4');
  const width = Math.round((HEIGHT * 16) / 9 / 2) * 2;
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${width}x${HEIGHT}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip],
  ]);
  const config = loadConfig({ DATABASE_URL: bench.url, DATA_DIR: bench.dataDir, LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '1' });
  const binaries = resolveBinaries(config);
  const source = await probeVideo(clip, binaries);
  const runtime = await startRuntime(config, createLogger('warn'));
  const workers = await startWorkers(runtime.services);
  const { db } = runtime.services.database;
  const user = await createUser(db, { name: 'bench', isAdmin: true, credits: 1_000_000 });
  const viewer = { id: user.id, name: user.name, isAdmin: true, keyId: 'bench' };
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-hls-bench-'));
  const direct: number[] = [];
  const staged: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // The bare command: the same arguments the stage passes to ffmpeg.
      const out = path.join(scratch, `direct-${round}`);
      const renditions = ladderFor(source);
      await Promise.all(renditions.map((_, i) => fs.mkdir(path.join(out, String(i)), { recursive: true })));
      const t0 = performance.now();
      await runFfmpeg(hlsArgs(clip, out, renditions, source.hasAudio), { ffmpeg: binaries.ffmpeg });
      direct.push(performance.now() - t0);

      // The same ladder as a vidq job (pipeline hls): the hls stage's time from its events.
      const video = await insertVideoRow(db, user.id, { storagePath: path.relative(bench.dataDir, clip), metadata: source });
      const job = await submitJob(runtime.services, viewer, { videoId: video.id, pipeline: 'hls' });
      await waitFor(
        'the job',
        async () => ((await db.select({ s: jobs.status }).from(jobs).where(eq(jobs.id, job.id)))[0]?.s === 'COMPLETED' ? true : null),
        600_000,
      );
      const at = async (type: string) =>
        (
          await db
            .select({ at: jobEvents.at })
            .from(jobEvents)
            .where(and(eq(jobEvents.jobId, job.id), eq(jobEvents.type, type), eq(jobEvents.stage, 'hls')))
        )[0].at.getTime();
      staged.push((await at('STAGE_COMPLETED')) - (await at('STAGE_STARTED')));
    }
  } finally {
    await workers.stop();
    await runtime.close();
    await fs.rm(scratch, { recursive: true, force: true });
    await bench.close();
  }
  const d = percentile(direct, 50);
  const s = percentile(staged, 50);
  console.log(
    `\nhls bench: ${SECONDS} s ${width}x${HEIGHT} source, ladder ${ladderFor(source)
      .map((r) => r.name)
      .join(' ')}, ${ROUNDS} rounds, Node ${process.version}`,
  );
  console.log(`direct ffmpeg: p50 ${(d / 1000).toFixed(2)} s (${direct.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
  console.log(`vidq hls stage: p50 ${(s / 1000).toFixed(2)} s (${staged.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
  const ratio = s / d;
  console.log(`ratio vidq / direct: ${ratio.toFixed(3)} (target ≤ 1.1) ${ratio <= 1.1 ? 'MET' : 'NOT MET'}`);
  process.exitCode = ratio <= 1.1 ? 0 : 1;
}

await main();
