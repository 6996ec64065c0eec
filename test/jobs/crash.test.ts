import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor, waitForEvent, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';
import { killAllVidq, spawnVidq } from '../helpers/processes';
import { finishJob } from '../../src/jobs/transitions';

let mediaDir: string;
let clip: string;
let api: TestApp;
const extraApps: TestApp[] = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  api = await startTestApp({ env: { ROLE: 'api', JOB_STAGES: 'probe,thumbnails,transcode' } });
});
afterAll(async () => {
  await killAllVidq();
  for (const app of extraApps) await app.close();
  await api?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

const STAGES = 'probe,thumbnails,transcode';
const workerEnv = (ffmpeg: string, extra: Record<string, string> = {}) => ({
  DATABASE_URL: api.database.url,
  DATA_DIR: api.dataDir,
  FFMPEG_PATH: ffmpeg,
  JOB_STAGES: STAGES,
  HEARTBEAT_SECONDS: '10',
  MONITOR_INTERVAL_SECONDS: '1',
  ...extra,
});

const stages = async (jobId: string) =>
  Object.fromEntries(
    (await api.services.database.sql`select name, status, attempts from job_stages where job_id = ${jobId} order by position`).map((s) => [s.name, `${s.status}×${s.attempts}`]),
  );

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function submitHungJob() {
  const hang = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'hang', when: 'libx264' });
  const user = await api.createUser({ credits: 10 });
  const video = await seedVideo(api, user.id, clip);
  const jobId: string = (await gql(api.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id;
  return { hang, jobId };
}

describe('a worker killed with SIGKILL in the middle of a job', () => {
  it('loses the job to another worker within seconds, which resumes at the unfinished stage and completes it once', async () => {
    const { hang, jobId } = await submitHungJob();
    const first = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path));
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    for (const pid of await hang.pids()) if (alive(pid)) process.kill(pid, 'SIGKILL'); // its orphaned child

    const killedAt = Date.now();
    const second = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path));
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 90_000);
    expect(job.status, `${JSON.stringify(job.error)}\n${second.output().slice(-2000)}`).toBe('COMPLETED');
    const events = await eventsOfJob(api, jobId);
    const starts = events.filter((e) => e.type === 'STARTED');
    expect(starts).toHaveLength(2);
    expect(starts[1].data).toMatchObject({ attempt: 2, recovered: true });
    expect(starts[1].at.getTime() - killedAt).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'COMPLETED')).toHaveLength(1);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(await stages(jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });

    // The dead attempt can no longer write: its attempt number is stale.
    const stale = await finishJob(api.services.database.db, api.services.boss, jobId, { status: 'FAILED', attempt: 1, from: ['PROCESSING', 'COMPLETED'] });
    expect(stale).toBeNull();
    const [after] = await api.services.database.sql`select status, attempt from jobs where id = ${jobId}`;
    expect(after).toEqual({ status: 'COMPLETED', attempt: 2 });
    second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

describe('a worker stopped with SIGTERM', () => {
  it('gives running jobs the grace period, then hands them back to the queue, and exits cleanly', async () => {
    const { hang, jobId } = await submitHungJob();
    const worker = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { SHUTDOWN_GRACE_SECONDS: '1' }));
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
    const [pid] = await hang.pids().then((p) => p.slice(-1));
    worker.kill('SIGTERM');
    expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
    await waitFor('the hung ffmpeg to be killed', async () => !alive(pid), 10_000);
    const retry = await waitForEvent(api, jobId, (e) => e.type === 'RETRY_SCHEDULED');
    expect(retry.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(retry.error!.detail).toMatch(/shut down/);

    const next = await startTestApp({ database: api.database, dataDir: api.dataDir, env: { ROLE: 'worker', JOB_STAGES: STAGES, FFMPEG_PATH: hang.path } });
    extraApps.push(next);
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
    expect(await stages(jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });
  });
});
