// SCRATCH_DIR: this machine's working copies. A job attempt's stage files and its source (when storage
// is not local) live in SCRATCH_DIR/jobs/<jobId>/attempt-<n> while it runs, and the directory goes when
// the attempt ends, whatever the outcome (one per attempt: a cancelled attempt still stopping its stage
// must not remove the files of the next one, started by a retryJob meanwhile); uploads being checked live in SCRATCH_DIR/uploads. A process that crashed
// leaves its directories behind: the job's next attempt here removes them when it ends, and a worker
// sweeps them at its start and every 10 minutes (by attempt number: a newer attempt's is never touched).
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

/** The attempt number of an `attempt-<n>` directory, or null for any other name. */
function attemptOf(name: string): number | null {
  const match = /^attempt-(\d+)$/.exec(name);
  return match ? Number(match[1]) : null;
}

/** Removes the attempt directories of a job numbered below `below` (those of a crashed or stopped process). */
async function removeEarlierAttempts(config: Pick<Config, 'scratchDir'>, jobId: string, below: number): Promise<number> {
  let removed = 0;
  for (const name of await readdir(jobScratchDir(config, jobId)).catch(() => [] as string[])) {
    const n = attemptOf(name);
    if (n === null || n >= below) continue;
    await rm(path.join(jobScratchDir(config, jobId), name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/**
 * Removes the attempt's directory and those of the job's earlier attempts (a crashed process left them;
 * one still stopping has been superseded), and the job's once nothing else is left in it. A later
 * attempt's directory is never touched: a retryJob may run it here while this one stops.
 */
export async function removeJobScratch(config: Pick<Config, 'scratchDir'>, jobId: string, attempt: number): Promise<void> {
  await rm(attemptScratchDir(config, jobId, attempt), { recursive: true, force: true });
  await removeEarlierAttempts(config, jobId, attempt);
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
 * Removes what no attempt runs any more: the directories of attempts older than their job's current one
 * (and the current one's too once the job is not PROCESSING), the directories of jobs that no longer
 * exist, and upload temp files older than `uploadAgeMs` (another process sharing SCRATCH_DIR may be
 * receiving right now). `attempts` answers the current attempt of each job that exists. A new attempt
 * always has a higher number than the one read here, so a sweep never removes one that just started.
 */
export async function sweepScratch(
  config: Pick<Config, 'scratchDir'>,
  attempts: (jobIds: string[]) => Promise<Map<string, { attempt: number; processing: boolean }>>,
  uploadAgeMs = 24 * 3600_000,
): Promise<{ jobs: number; attempts: number; uploads: number }> {
  const jobsDir = path.join(config.scratchDir, 'jobs');
  const jobIds = (await readdir(jobsDir).catch(() => [] as string[])).filter((name) => /^job_[0-9a-z]+$/.test(name));
  const current = jobIds.length ? await attempts(jobIds) : new Map<string, { attempt: number; processing: boolean }>();
  let jobs = 0;
  let removedAttempts = 0;
  for (const jobId of jobIds) {
    const job = current.get(jobId);
    if (!job) {
      await rm(path.join(jobsDir, jobId), { recursive: true, force: true }); // the job is gone: nothing can start it
      jobs++;
      continue;
    }
    removedAttempts += await removeEarlierAttempts(config, jobId, job.processing ? job.attempt : job.attempt + 1);
    if (
      await rmdir(path.join(jobsDir, jobId)).then(
        () => true,
        () => false,
      )
    )
      jobs++; // only when nothing else is left in it
  }
  const uploads = await removeStaleEntries(uploadScratchDir(config), uploadAgeMs);
  return { jobs, attempts: removedAttempts, uploads };
}
