// SCRATCH_DIR after crashes: an attempt that ends takes what its job's earlier attempts left on this
// machine, and the worker's sweeps take what crashed attempts left of jobs that run on, or ended,
// elsewhere, never the directory of an attempt that runs (decided by attempt number, not by age).
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { attemptScratchDir, jobScratchDir, makeJobScratch, removeJobScratch, sweepScratch } from '../../src/storage/scratch';

let dir: string;
let config: ReturnType<typeof loadConfig>;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-scratch-'));
  config = loadConfig({ DATA_DIR: path.join(dir, 'data') });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** What a crashed attempt leaves: its directory with a partial file in it. */
async function leftBy(jobId: string, attempt: number): Promise<string> {
  const scratch = await makeJobScratch(config, jobId, attempt);
  await fs.writeFile(path.join(scratch, 'source'), 'a partial copy');
  return scratch;
}

describe('scratch directories', () => {
  it('an attempt that ends removes its job’s earlier attempts’ directories, never a later one’s', async () => {
    const crashed = await leftBy('job_sc1', 1);
    await leftBy('job_sc1', 2);
    const later = await leftBy('job_sc1', 3); // a retryJob runs it here while attempt 2 stops
    await removeJobScratch(config, 'job_sc1', 2);
    expect(existsSync(crashed)).toBe(false);
    expect(existsSync(attemptScratchDir(config, 'job_sc1', 2))).toBe(false);
    expect(existsSync(later)).toBe(true);
    await removeJobScratch(config, 'job_sc1', 3);
    expect(existsSync(jobScratchDir(config, 'job_sc1'))).toBe(false);
  });

  it('a sweep removes a running job’s earlier attempts, what an ended job left, and a deleted job’s directory; never what runs', async () => {
    const crashed = await leftBy('job_sc2', 1);
    const current = await leftBy('job_sc2', 2);
    const ended = await leftBy('job_sc3', 1); // the job FAILED after this attempt: nothing runs it
    const deleted = await leftBy('job_sc7', 1); // the job's row is gone (deleteVideo, retention)
    const attempts = async () =>
      new Map([
        ['job_sc2', { attempt: 2, processing: true }],
        ['job_sc3', { attempt: 1, processing: false }],
      ]);
    expect(await sweepScratch(config, attempts)).toEqual({ jobs: 2, attempts: 2, uploads: 0 });
    expect(existsSync(crashed)).toBe(false);
    expect(existsSync(jobScratchDir(config, 'job_sc3'))).toBe(false);
    expect(existsSync(ended)).toBe(false);
    expect(existsSync(jobScratchDir(config, 'job_sc7'))).toBe(false);
    expect(existsSync(deleted)).toBe(false);
    expect(await fs.readFile(path.join(current, 'source'), 'utf8')).toBe('a partial copy');
    await removeJobScratch(config, 'job_sc2', 2);
  });

  it('a sweep never removes an attempt newer than the one it read: one that started just after the read is kept', async () => {
    await leftBy('job_sc4', 1);
    // The job was QUEUED at attempt 1 when the sweep read it; attempt 2 started here right after.
    const started = await leftBy('job_sc4', 2);
    expect(await sweepScratch(config, async () => new Map([['job_sc4', { attempt: 1, processing: false }]]))).toMatchObject({ jobs: 0, attempts: 1 });
    expect(await fs.readFile(path.join(started, 'source'), 'utf8')).toBe('a partial copy');
    await removeJobScratch(config, 'job_sc4', 2);
    expect(await fs.readdir(path.join(config.scratchDir, 'jobs'))).toEqual([]);
  });
});
