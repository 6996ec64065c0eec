// SCRATCH_DIR: this machine's working copies. A job attempt's stage files and its source (when storage
// is not local) live in SCRATCH_DIR/jobs/<jobId>/attempt-<n> while it runs, and the directory goes when
// the attempt ends, whatever the outcome (one per attempt: a cancelled attempt still stopping its stage
// must not remove the files of the next one, started by a retryJob meanwhile); uploads being checked live in SCRATCH_DIR/uploads. A process that crashed
// leaves its directories behind: the next worker start here removes those of jobs not running.
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config';

export function jobScratchDir(config: Pick<Config, 'scratchDir'>, jobId: string): string {
  return path.join(config.scratchDir, 'jobs', jobId);
}

export function uploadScratchDir(config: Pick<Config, 'scratchDir'>): string {
  return path.join(config.scratchDir, 'uploads');
}

export function attemptScratchDir(config: Pick<Config, 'scratchDir'>, jobId: string, attempt: number): string {
  return path.join(jobScratchDir(config, jobId), `attempt-${attempt}`);
}

export async function makeJobScratch(config: Pick<Config, 'scratchDir'>, jobId: string, attempt: number): Promise<string> {
  const dir = attemptScratchDir(config, jobId, attempt);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Removes the attempt's directory, and the job's once no other attempt's is left in it. */
export async function removeJobScratch(config: Pick<Config, 'scratchDir'>, jobId: string, attempt: number): Promise<void> {
  await rm(attemptScratchDir(config, jobId, attempt), { recursive: true, force: true });
  await rmdir(jobScratchDir(config, jobId)).catch(() => {}); // ENOTEMPTY: another attempt runs here still
}

/**
 * Removes the entries of `dir` (files or directories) last changed more than `olderThanMs` ago, and
 * only those `accept` takes: what a crashed process left, never what another is still writing.
 */
export async function removeStaleEntries(dir: string, olderThanMs: number, accept: (name: string) => boolean = () => true): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!accept(name)) continue;
    const entry = path.join(dir, name);
    const info = await stat(entry).catch(() => null);
    if (info && Date.now() - info.mtimeMs > olderThanMs) {
      await rm(entry, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * Removes the scratch directories of jobs that `isRunning` says no process runs, and upload temp files
 * older than `uploadAgeMs` (another process sharing SCRATCH_DIR may be receiving right now).
 */
export async function sweepScratch(
  config: Pick<Config, 'scratchDir'>,
  isRunning: (jobIds: string[]) => Promise<Set<string>>,
  uploadAgeMs = 24 * 3600_000,
): Promise<{ jobs: number; uploads: number }> {
  const jobsDir = path.join(config.scratchDir, 'jobs');
  const jobIds = (await readdir(jobsDir).catch(() => [] as string[])).filter((name) => /^job_[0-9a-z]+$/.test(name));
  const running = jobIds.length ? await isRunning(jobIds) : new Set<string>();
  let jobs = 0;
  for (const jobId of jobIds) {
    if (running.has(jobId)) continue;
    await rm(path.join(jobsDir, jobId), { recursive: true, force: true });
    jobs++;
  }
  const uploads = await removeStaleEntries(uploadScratchDir(config), uploadAgeMs);
  return { jobs, uploads };
}
