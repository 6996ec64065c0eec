// SCRATCH_DIR after crashes: an attempt that ends takes what its job's earlier attempts left on this
// machine, and the worker's sweeps take what crashed attempts left of jobs that run on, or ended,
// elsewhere, never the directory of an attempt that runs.
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

const hourAgo = async (entry: string) => {
  const then = new Date(Date.now() - 3600_000);
  await fs.utimes(entry, then, then);
};

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

  it('a sweep removes a running job’s earlier attempts and ended jobs’ directories, and keeps what runs', async () => {
    const crashed = await leftBy('job_sc2', 1);
    const current = await leftBy('job_sc2', 2);
    const ended = await leftBy('job_sc3', 1);
    const swept = await sweepScratch(config, async (jobIds) => new Map(jobIds.filter((id) => id === 'job_sc2').map((id) => [id, 2])));
    expect(swept).toMatchObject({ jobs: 1, attempts: 1 });
    expect(existsSync(crashed)).toBe(false);
    expect(existsSync(ended)).toBe(false);
    expect(await fs.readFile(path.join(current, 'source'), 'utf8')).toBe('a partial copy');
    await removeJobScratch(config, 'job_sc2', 2);
  });

  it('a sweep while jobs run leaves directories changed lately alone: their job may have just started again here', async () => {
    const recent = await leftBy('job_sc4', 1);
    const old = await leftBy('job_sc5', 1);
    await hourAgo(jobScratchDir(config, 'job_sc5'));
    const crashedLately = await leftBy('job_sc6', 1);
    const crashedLongAgo = await leftBy('job_sc6', 2);
    await hourAgo(crashedLongAgo);
    await leftBy('job_sc6', 3);
    const running = async () => new Map([['job_sc6', 3]]);
    expect(await sweepScratch(config, running, { minAgeMs: 60_000 })).toMatchObject({ jobs: 1, attempts: 1 });
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(crashedLately)).toBe(true);
    expect(existsSync(crashedLongAgo)).toBe(false);
    await removeJobScratch(config, 'job_sc4', 1);
    await removeJobScratch(config, 'job_sc6', 3);
    expect(await fs.readdir(path.join(config.scratchDir, 'jobs'))).toEqual([]);
  });
});
