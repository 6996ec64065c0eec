import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor, waitForEvent, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';
import { isRunning, killAllVidq, spawnVidq } from '../helpers/processes';
import { startTcpProxy } from '../helpers/tcp-proxy';
import { incidentReport } from '../../src/jobs/incident-report';
import { finishJob, startAttempt } from '../../src/jobs/transitions';
import { deathSignalLauncher } from '../../src/death-signal';
import { processingQueue } from '../../src/queue/queues';

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
    (await api.services.database.sql`select name, status, attempts from job_stages where job_id = ${jobId} order by position`).map((s) => [
      s.name,
      `${s.status}×${s.attempts}`,
    ]),
  );

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
    for (const pid of await hang.pids()) if (isRunning(pid)) process.kill(pid, 'SIGKILL'); // its orphaned child

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

describe('a worker killed while another one runs', () => {
  it('has its job handed on as soon as its database session ends, long before a missed heartbeat could tell', async () => {
    const { hang, jobId } = await submitHungJob();
    // Heartbeats of two minutes: within this test's time only the lease (session advisory lock) can explain a hand-over.
    const env = workerEnv(hang.path, { HEARTBEAT_SECONDS: '120' });
    const workers = [spawnVidq(['serve', '--role', 'worker'], env), spawnVidq(['serve', '--role', 'worker'], env)];
    const started = await waitForEvent(api, jobId, (e) => e.type === 'STARTED', 60_000);
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
    const runner = workers.find((w) => (started.data as { worker: string }).worker.endsWith(`:${w.child.pid}`))!;
    expect(runner).toBeDefined();
    runner.kill('SIGKILL');
    expect(await runner.exited).toBe('SIGKILL');
    const killedAt = Date.now();

    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    const other = workers.find((w) => w !== runner)!;
    expect(job.status, `${JSON.stringify(job.error)}\n${other.output().slice(-2000)}`).toBe('COMPLETED');
    const events = await eventsOfJob(api, jobId);
    const starts = events.filter((e) => e.type === 'STARTED');
    expect(starts.map((e) => (e.data as { worker: string }).worker)).toEqual([`${os.hostname()}:${runner.child.pid}`, `${os.hostname()}:${other.child.pid}`]);
    expect(starts[1].data).toMatchObject({ attempt: 2, recovered: true });
    // Taken over from the event timestamps: after the kill, and far inside the 120 s heartbeat.
    expect(starts[1].at.getTime()).toBeGreaterThan(killedAt - 1000);
    expect(starts[1].at.getTime() - killedAt).toBeLessThan(60_000);
    expect(events.filter((e) => e.type === 'COMPLETED')).toHaveLength(1);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    expect(await stages(jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });
    other.kill('SIGTERM');
    expect(await other.exited).toBe(0);
  });

  it('ends the job FAILED, saying so, when the crash used up its last automatic retry', async () => {
    const { hang, jobId } = await submitHungJob();
    const env = workerEnv(hang.path, { HEARTBEAT_SECONDS: '120' });
    // This job is on its last automatic retry.
    await api.services.database.sql`update pgboss.job set retry_limit = 0 where id = (select queue_job_id from jobs where id = ${jobId})`;
    const workers = [spawnVidq(['serve', '--role', 'worker'], env), spawnVidq(['serve', '--role', 'worker'], env)];
    const started = await waitForEvent(api, jobId, (e) => e.type === 'STARTED', 60_000);
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    const runner = workers.find((w) => (started.data as { worker: string }).worker.endsWith(`:${w.child.pid}`))!;
    const watcher = workers.find((w) => w !== runner)!;
    runner.kill('SIGKILL');
    await runner.exited;
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    expect(job.status).toBe('FAILED');
    expect(job.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', stage: 'transcode', retryable: true });
    expect(job.error!.detail).toMatch(/stopped \(crash, kill or lost database\) and no automatic retries are left; retryJob/);
    watcher.kill('SIGTERM');
    expect(await watcher.exited).toBe(0);
  });
});

describe('a worker whose database sessions are terminated (pg_terminate_backend) while it runs a job', () => {
  it('stops the attempt it no longer owns and the job is run again and completed once, without waiting for a heartbeat', async () => {
    const { hang, jobId } = await submitHungJob();
    const worker = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { HEARTBEAT_SECONDS: '120' }));
    try {
      await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
      await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
      const [terminated] = await api.services.database.sql`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
        where datname = current_database() and application_name = 'vidq-worker-lease'`;
      expect(terminated.n).toBe(1);
      const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
      expect(job.status, `${JSON.stringify(job.error)}\n${worker.output().slice(-3000)}`).toBe('COMPLETED');
      const events = await eventsOfJob(api, jobId);
      expect(events.filter((e) => e.type === 'STARTED').map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
      expect(events.filter((e) => e.type === 'COMPLETED')).toHaveLength(1);
      expect(await stages(jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });
      worker.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    } finally {
      worker.kill('SIGKILL');
    }
  });
});

describe('a worker cut off from the database by a partition that PostgreSQL noticed and the worker did not', () => {
  it('loses its lease with its sessions, so its job moves on at once, and its late writes are refused', async () => {
    const { hang, jobId } = await submitHungJob();
    const pg = new URL(api.database.url);
    const proxy = await startTcpProxy(pg.hostname, Number(pg.port));
    const proxied = new URL(api.database.url);
    proxied.port = String(proxy.port);
    const cutOff = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { DATABASE_URL: proxied.toString(), HEARTBEAT_SECONDS: '120' }));
    try {
      await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
      await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
      const healthy = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { HEARTBEAT_SECONDS: '120' }));
      proxy.partition();
      const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
      expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
      const starts = (await eventsOfJob(api, jobId)).filter((e) => e.type === 'STARTED');
      expect(starts.map((e) => (e.data as { worker: string }).worker)).toEqual([
        `${os.hostname()}:${cutOff.child.pid}`,
        `${os.hostname()}:${healthy.child.pid}`,
      ]);
      // Back on the network, the stale attempt changes nothing.
      proxy.heal();
      await new Promise((r) => setTimeout(r, 2000));
      const [after] = await api.services.database.sql`select status, attempt from jobs where id = ${jobId}`;
      expect(after).toEqual({ status: 'COMPLETED', attempt: 2 });
      const ends = (await eventsOfJob(api, jobId)).filter((e) => ['COMPLETED', 'FAILED', 'RETRY_SCHEDULED'].includes(e.type));
      expect(ends.map((e) => e.type)).toEqual(['COMPLETED']);
      healthy.kill('SIGTERM');
      expect(await healthy.exited).toBe(0);
    } finally {
      cutOff.kill('SIGKILL');
      await proxy.close();
    }
  }, 90_000);
});

describe('a worker stopped with SIGTERM', () => {
  it('gives running jobs the grace period, then hands them back to the queue, and exits cleanly', async () => {
    const { hang, jobId } = await submitHungJob();
    const [{ queue_job_id: firstQueueJob }] = await api.services.database.sql`select queue_job_id from jobs where id = ${jobId}`;
    const worker = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { SHUTDOWN_GRACE_SECONDS: '1' }));
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
    const [pid] = await hang.pids().then((p) => p.slice(-1));
    worker.kill('SIGTERM');
    expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
    await waitFor('the hung ffmpeg to be killed', async () => !isRunning(pid), 10_000);
    const retry = await waitForEvent(api, jobId, (e) => e.type === 'RETRY_SCHEDULED');
    expect(retry.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(retry.error!.detail).toMatch(/shut down/);
    // It went to a new queue job. pg-boss's shutdown failed the old one, which it retries later: that
    // retry must start nothing.
    const [{ queue_job_id: current }] = await api.services.database.sql`select queue_job_id from jobs where id = ${jobId}`;
    expect(current).not.toBe(firstQueueJob);
    expect((await api.services.boss.getJobById(processingQueue('default'), firstQueueJob))?.state).toBe('retry');
    expect(await startAttempt(api.services.database.db, jobId, firstQueueJob, {}, await api.services.lease.key())).toBeNull();

    const next = await startTestApp({ database: api.database, dataDir: api.dataDir, env: { ROLE: 'worker', JOB_STAGES: STAGES, FFMPEG_PATH: hang.path } });
    extraApps.push(next);
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
    expect(await stages(jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });
    // pg-boss retried the old queue job too (its shutdown fails what runs): it started nothing beside the new one.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await eventsOfJob(api, jobId)).filter((e) => e.type === 'STARTED')).toHaveLength(2);
    await next.close(); // the next test's job must reach its own worker
    extraApps.splice(extraApps.indexOf(next), 1);
  });

  it('does not use up the job’s retries: on its last attempt the job is handed back too, not failed', async () => {
    const { hang, jobId } = await submitHungJob();
    // The last attempt: no retry left, by the job's count and by its queue job's.
    await api.services.database.sql`update jobs set max_attempts = 1 where id = ${jobId}`;
    const [{ queue_job_id: queueJobId }] = await api.services.database.sql`select queue_job_id from jobs where id = ${jobId}`;
    await api.services.database.sql`update pgboss.job set retry_limit = 0 where id = ${queueJobId}`;
    const worker = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { SHUTDOWN_GRACE_SECONDS: '1', JOB_MAX_RETRIES: '0' }));
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
    worker.kill('SIGTERM');
    expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
    const retry = await waitForEvent(api, jobId, (e) => e.type === 'RETRY_SCHEDULED');
    expect(retry.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringMatching(/shut down/) });
    expect(retry.data).toMatchObject({ attempt: 1, retriesLeft: 1 });
    const [handed] = await api.services.database.sql`select status, max_attempts, queue_job_id from jobs where id = ${jobId}`;
    expect(handed).toMatchObject({ status: 'QUEUED', max_attempts: 2 });
    expect(handed.queue_job_id).not.toBe(queueJobId);

    const next = await startTestApp({ database: api.database, dataDir: api.dataDir, env: { ROLE: 'worker', JOB_STAGES: STAGES, FFMPEG_PATH: hang.path } });
    extraApps.push(next);
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
    expect(job.attempt).toBe(2);
    // The hand-back used no retry, and the incident report does not count it as one.
    expect((await incidentReport(api.services.database.db, job)).symptom).toBe('completed (no incident)');
  });
});

describe('a worker stopped while its stage runs', () => {
  // The worker each test starts must be the only one: the earlier tests leave theirs running.
  beforeAll(async () => {
    await killAllVidq();
    for (const app of extraApps.splice(0)) await app.close();
  });
  // Without setpriv ffmpeg stays in vidq's group (nothing else would end it with a killed vidq).
  it.skipIf(!deathSignalLauncher())(
    'keeps a signal to its whole process group (Ctrl-C in a terminal) from ffmpeg, and hands the job back without using a retry',
    async () => {
      const { hang, jobId } = await submitHungJob();
      const worker = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { SHUTDOWN_GRACE_SECONDS: '4' }), { ownProcessGroup: true });
      await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
      await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
      const ffmpegPid = (await hang.pids()).at(-1)!; // the hung one: the thumbnails' ran before it
      process.kill(-worker.child.pid!, 'SIGINT');
      await waitFor('the worker to begin its stop', async () => worker.output().includes('shutting down'), 10_000);
      // ffmpeg (here a hung stand-in) leads its own group: the signal did not reach it. It runs on
      // through the grace period; vidq stops it after that.
      await new Promise((r) => setTimeout(r, 1000));
      expect(isRunning(ffmpegPid)).toBe(true);
      expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
      expect(isRunning(ffmpegPid)).toBe(false);
      const events = await eventsOfJob(api, jobId);
      const retries = events.filter((e) => e.type === 'RETRY_SCHEDULED');
      expect(retries).toHaveLength(1);
      expect(retries[0].error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringMatching(/shut down/) });
      expect(retries[0].data).toMatchObject({ attempt: 1, backoff: expect.stringMatching(/^none/) });
      await finishJob(api.services.database.db, api.services.boss, jobId, { status: 'CANCELLED', from: ['QUEUED'] }); // nothing else runs it here
    },
  );

  it('hands the job back without using a retry when its ffmpeg is killed beside it (every process of the service signalled at once)', async () => {
    const { hang, jobId } = await submitHungJob();
    // The last attempt: a failure counted as the job's would end it FAILED.
    await api.services.database.sql`update jobs set max_attempts = 1 where id = ${jobId}`;
    const worker = spawnVidq(['serve', '--role', 'worker'], workerEnv(hang.path, { SHUTDOWN_GRACE_SECONDS: '10', JOB_MAX_RETRIES: '0' }));
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode', 60_000);
    await waitFor('the transcode to hang', async () => (await hang.invocations()) === 1);
    worker.kill('SIGTERM');
    await waitFor('the worker to begin its stop', async () => worker.output().includes('shutting down'), 10_000);
    process.kill((await hang.pids()).at(-1)!, 'SIGTERM'); // as systemd's KillMode=control-group does
    expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
    const [handed] = await api.services.database.sql`select status, max_attempts from jobs where id = ${jobId}`;
    expect(handed).toMatchObject({ status: 'QUEUED', max_attempts: 2 });
    const retry = (await eventsOfJob(api, jobId)).find((e) => e.type === 'RETRY_SCHEDULED');
    expect(retry?.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringMatching(/shut down/) });
    // What failed is kept beside it: ffmpeg, killed by the signal.
    expect(retry?.data).toMatchObject({ failure: expect.stringMatching(/ffmpeg|SIGTERM|signal/i) });
    await finishJob(api.services.database.db, api.services.boss, jobId, { status: 'CANCELLED', from: ['QUEUED'] });
  });
});
