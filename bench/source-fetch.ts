// How a worker on another machine should read a job's source from the bucket (issue #11): download it
// into SCRATCH_DIR first (what vidq does, src/jobs/workspace.ts), or let ffmpeg read a presigned URL.
// Same source, same s3rver, alternating, in one run: the default pipeline's stages (probe, thumbnails,
// transcode FAST) run on the downloaded file — download time included — and on the URL.
//
//   npx tsx bench/source-fetch.ts            # 40 s of 1280x720 H.264 at 12 Mbit/s with AAC, 3 rounds
//   SECONDS=20 ROUNDS=5 npx tsx bench/source-fetch.ts
//
// Prints each variant's time per stage and the ratio URL / download (above 1: downloading is faster).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { validateProcessingOptions } from '../src/pipeline/options';
import { probeVideo, resolveBinaries } from '../src/pipeline/index';
import { getStage } from '../src/pipeline/stages/index';
import type { StageContext } from '../src/pipeline/types';
import { createStorage } from '../src/storage/index';
import { ffmpeg } from '../test/helpers/media';
import { startS3Process } from './lib/s3';

const SECONDS = Number(process.env.SECONDS ?? 40);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const STAGES = ['probe', 'thumbnails', 'transcode'];

async function runStages(input: string, work: string): Promise<Record<string, number>> {
  const binaries = resolveBinaries({ ffmpegPath: undefined, ffprobePath: undefined });
  const checked = validateProcessingOptions({});
  if (!('options' in checked)) throw new Error('default options are invalid');
  const times: Record<string, number> = {};
  const source = await probeVideo(input, binaries);
  for (const name of STAGES) {
    const outputDir = path.join(work, name);
    await fs.mkdir(outputDir, { recursive: true });
    const ctx: StageContext = {
      jobId: 'job_bench',
      attempt: 1,
      inputPath: input,
      outputDir,
      options: checked.options,
      stageOptions: {},
      scratchDir: work,
      log: createLogger('silent'),
      source,
      previous: {},
      binaries,
      signal: new AbortController().signal,
      reportProgress: () => {},
    };
    const t = performance.now();
    await getStage(name)!.run(ctx);
    times[name] = performance.now() - t;
  }
  return times;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main() {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-bench-fetch-'));
  const s3 = await startS3Process();
  try {
    const clip = path.join(work, 'source.mp4');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      ...['-t', String(SECONDS), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '12M', '-maxrate', '12M', '-bufsize', '24M'],
      ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip],
    ]);
    const size = (await fs.stat(clip)).size;
    const storage = await createStorage(
      loadConfig({
        DATA_DIR: path.join(work, 'data'),
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: 'vidq-bench',
        S3_ACCESS_KEY_ID: 'S3RVER',
        S3_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    );
    const key = 'uploads/vid_bench/source.mp4';
    await storage.putFile(key, clip, { contentType: 'video/mp4' });
    console.log(`source: ${(size / 1e6).toFixed(1)} MB, ${SECONDS} s of 1280x720 H.264 + AAC (moov at the end), in s3rver; stages ${STAGES.join(', ')}`);

    const totals: Record<'download' | 'url', number[]> = { download: [], url: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of round % 2 ? (['download', 'url'] as const) : (['url', 'download'] as const)) {
        const dir = path.join(work, `${variant}-${round}`);
        const t = performance.now();
        let fetchMs = 0;
        let input: string;
        if (variant === 'download') {
          input = await storage.localPath(key, path.join(dir, 'source'));
          fetchMs = performance.now() - t;
        } else {
          input = (await storage.presignedUrl(key, { expiresInSeconds: 3600 }))!;
        }
        const stages = await runStages(input, dir);
        const total = performance.now() - t;
        totals[variant].push(total);
        const parts = Object.entries(stages).map(([name, ms]) => `${name} ${seconds(ms)}`);
        console.log(
          `round ${round} ${variant.padEnd(8)} ${seconds(total)}  (${variant === 'download' ? `download ${seconds(fetchMs)}, ` : ''}${parts.join(', ')})`,
        );
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
    storage.close();
    const download = median(totals.download);
    const url = median(totals.url);
    console.log(`\nmedian of ${ROUNDS}: download then local ${seconds(download)}, presigned URL ${seconds(url)}`);
    console.log(`URL / download: ${(url / download).toFixed(2)} (above 1: downloading into SCRATCH_DIR is faster)`);
  } finally {
    await s3.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
