// A job attempt's files on this machine: where its stages read the source and write their files.
// With local storage both are the stored files themselves (outputs are written in place). With s3 the
// source is downloaded into the job's scratch directory, stage files are written there and put into
// the bucket as each stage finishes (its checkpoint then points at objects, so a retry on another
// machine resumes from them), and the scratch directory goes when the attempt ends, whatever the outcome.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { inArray } from 'drizzle-orm';
import { jobs, type VideoRow } from '../db/schema/index';
import type { OutputFile } from '../pipeline/types';
import type { Services } from '../services';
import { jobOutputsPrefix, outputKey } from '../storage/keys';
import { makeJobScratch, removeJobScratch, sweepScratch } from '../storage/scratch';

export interface JobWorkspace {
  inputPath: string;
  outputDir: string;
  /** The attempt's scratch directory (removed by close()). */
  scratchDir: string;
  /** Stores a finished stage's files under outputs/<jobId>/ (nothing to do when written in place). */
  store(files: OutputFile[]): Promise<void>;
  /** Removes the attempt's scratch files. */
  close(): Promise<void>;
}

export async function openJobWorkspace(
  services: Pick<Services, 'storage' | 'config'>,
  jobId: string,
  attempt: number,
  video: Pick<VideoRow, 'storagePath'>,
  signal?: AbortSignal,
): Promise<JobWorkspace> {
  const { storage, config } = services;
  const inPlace = storage.localDirectory(jobOutputsPrefix(jobId));
  const scratch = await makeJobScratch(config, jobId, attempt);
  try {
    const outputDir = inPlace ?? path.join(scratch, 'outputs');
    await mkdir(outputDir, { recursive: true });
    // The attempt's abort (deadline, cancel, shutdown) gives up a download or a put under way.
    const inputPath = await storage.localPath(video.storagePath, path.join(scratch, 'source'), signal);
    return {
      inputPath,
      outputDir,
      scratchDir: scratch,
      async store(files) {
        if (inPlace) return;
        for (const file of files) {
          await storage.putFile(outputKey(jobId, file.path), path.join(outputDir, file.path), { contentType: file.contentType, signal });
        }
      },
      close: () => removeJobScratch(config, jobId, attempt),
    };
  } catch (error) {
    await removeJobScratch(config, jobId, attempt);
    throw error;
  }
}

/**
 * Run by a worker at start and every SCRATCH_SWEEP_MS: removes what crashed or stopped attempts left in
 * SCRATCH_DIR (see sweepScratch), and upload temp files older than a day. The attempt a job runs now
 * keeps its directory, whichever process of those sharing this SCRATCH_DIR runs it.
 */
export async function sweepJobScratch(services: Pick<Services, 'config' | 'database' | 'log'>): Promise<void> {
  const swept = await sweepScratch(services.config, async (jobIds) => {
    const rows = await services.database.db.select({ id: jobs.id, attempt: jobs.attempt, status: jobs.status }).from(jobs).where(inArray(jobs.id, jobIds));
    return new Map(rows.map((row) => [row.id, { attempt: row.attempt, processing: row.status === 'PROCESSING' }]));
  });
  if (swept.jobs || swept.attempts || swept.uploads) services.log.info(swept, 'removed scratch files left by earlier processes');
}

/** How often a worker sweeps its SCRATCH_DIR while it runs (a crashed attempt's source copy can be gigabytes). */
export const SCRATCH_SWEEP_MS = 10 * 60_000;
