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

/** The attempt number of an `attempt-<n>` directory, or null for any other name. */
function attemptOf(name: string): number | null {
  const match = /^attempt-(\d+)$/.exec(name);
  return match ? Number(match[1]) : null;
}

/** Whether `entry` last changed at least `minAgeMs` ago (0: whatever its age). */
async function untouchedFor(entry: string, minAgeMs: number): Promise<boolean> {
  if (minAgeMs <= 0) return true;
  const info = await stat(entry).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs >= minAgeMs;
}

/** Removes the attempt directories of a job numbered below `attempt` (those of a crashed or stopped process). */
async function removeEarlierAttempts(config: Pick<Config, 'scratchDir'>, jobId: string, attempt: number, minAgeMs = 0): Promise<number> {
  let removed = 0;
  for (const name of await readdir(jobScratchDir(config, jobId)).catch(() => [] as string[])) {
    const n = attemptOf(name);
    const entry = path.join(jobScratchDir(config, jobId), name);
    if (n === null || n >= attempt || !(await untouchedFor(entry, minAgeMs))) continue;
    await rm(entry, { recursive: true, force: true });
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
 * Removes the scratch directories of jobs that `running` says no process runs, those of earlier attempts
 * of jobs that run (a crashed attempt's, while its job goes on), and upload temp files older than
 * `uploadAgeMs` (another process sharing SCRATCH_DIR may be receiving right now). `running` answers the
 * current attempt of each job that runs. With `minAgeMs` (a sweep while jobs run), a directory changed
 * more recently is left alone: its job may have ended and started again here between the two looks.
 */
export async function sweepScratch(
  config: Pick<Config, 'scratchDir'>,
  running: (jobIds: string[]) => Promise<Map<string, number>>,
  opts: { uploadAgeMs?: number; minAgeMs?: number } = {},
): Promise<{ jobs: number; attempts: number; uploads: number }> {
  const { uploadAgeMs = 24 * 3600_000, minAgeMs = 0 } = opts;
  const jobsDir = path.join(config.scratchDir, 'jobs');
  const jobIds = (await readdir(jobsDir).catch(() => [] as string[])).filter((name) => /^job_[0-9a-z]+$/.test(name));
  const current = jobIds.length ? await running(jobIds) : new Map<string, number>();
  let jobs = 0;
  let attempts = 0;
  for (const jobId of jobIds) {
    const attempt = current.get(jobId);
    if (attempt !== undefined) {
      attempts += await removeEarlierAttempts(config, jobId, attempt, minAgeMs);
      continue;
    }
    if (!(await untouchedFor(path.join(jobsDir, jobId), minAgeMs))) continue;
    await rm(path.join(jobsDir, jobId), { recursive: true, force: true });
    jobs++;
  }
  const uploads = await removeStaleEntries(uploadScratchDir(config), uploadAgeMs);
  return { jobs, attempts, uploads };
}
