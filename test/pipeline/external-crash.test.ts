// A worker process SIGKILLed while an external stage runs: the stage itself dies with it (pdeathsig), the
// child it started is ended by the worker that hands the job on, the job resumes at that stage on the
// other worker and completes once, and its job.completed webhook (with the stage's files) arrives once.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, waitFor, waitForEvent, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { isRunning, killAllVidq, spawnVidq } from '../helpers/processes';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

const PIPELINES_FILE = path.resolve(import.meta.dirname, 'fixtures/stages/pipelines.json');
let dir: string;
let api: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-stage-crash-'));
  api = await startTestApp({ env: { ROLE: 'api', PIPELINES_FILE } });
  receiver = await startReceiver();
});
afterAll(async () => {
  await killAllVidq();
  await receiver?.close();
  await api?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** A worker of its own (SHUTDOWN_GRACE_SECONDS = grace) running a `hangs` job: the stage's pid and its child's. */
async function hangingJobOnNewWorker(grace: string, name: string, hang: { ignoreTerm?: boolean } = {}) {
  const worker = spawnVidq(['serve', '--role', 'worker'], {
    DATABASE_URL: api.database.url,
    DATA_DIR: api.dataDir,
    PIPELINES_FILE,
    HANG_PIDS_DIR: dir,
    SHUTDOWN_GRACE_SECONDS: grace,
  });
  await waitFor('the worker to start', async () => worker.output().includes('vidq started'), 60_000);
  const user = await api.createUser({ credits: 100 });
  const video = await seedVideo(api, user.id, await makeVideo(dir, { format: 'mp4', seconds: 1, name }));
  const submitted = await gql(api.url, user.key, 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { ... on SubmitJobSuccess { job { id } } } }', {
    input: { videoId: video.id, pipeline: 'hangs', stageOptions: { hang } },
  });
  const jobId = submitted.body.data.submitJob.job.id as string;
  const [stage, child] = (await waitFor('the stage to start', () => fs.readFile(path.join(dir, jobId), 'utf8').catch(() => null), 60_000))
    .trim()
    .split(' ')
    .map(Number);
  return { worker, user, jobId, stage, child };
}

describe('an external stage whose worker is SIGKILLed', () => {
  it('leaves nothing running, and the job resumes at that stage on another worker and completes once', async () => {
    const workerEnv = {
      DATABASE_URL: api.database.url,
      DATA_DIR: api.dataDir,
      PIPELINES_FILE,
      FLAKY_DIR: dir,
      HANG_PIDS_DIR: dir,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      PUBLIC_URL: api.url, // the files' URLs in the webhook name the API
    };
    const user = await api.createUser({ credits: 100 });
    const video = await seedVideo(api, user.id, await makeVideo(dir, { format: 'mp4', seconds: 1 }));
    const submitted = await gql(
      api.url,
      user.key,
      'mutation($input: SubmitJobInput!) { submitJob(input: $input) { ... on SubmitJobSuccess { job { id } } ... on Error { code message } } }',
      { input: { videoId: video.id, pipeline: 'crashy', webhookUrl: `${receiver.url}/hook` } },
    );
    const jobId = submitted.body.data.submitJob.job.id as string;

    const first = spawnVidq(['serve', '--role', 'worker'], workerEnv);
    await waitForEvent(api, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'hangonce', 60_000);
    const [stage, child] = (await waitFor('the stage to start', () => fs.readFile(path.join(dir, jobId), 'utf8').catch(() => null)))
      .trim()
      .split(' ')
      .map(Number);
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await waitFor('the stage to die with its worker', async () => !isRunning(stage), 5000, 20);
    expect(isRunning(child)).toBe(true); // its own child outlives it, until a worker hands the job on

    const second = spawnVidq(['serve', '--role', 'worker'], workerEnv);
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    expect(job.status, second.output().slice(-2000)).toBe('COMPLETED');
    expect(isRunning(child)).toBe(false);
    await waitFor('the hand-over to log it', async () => second.output().includes('ended processes the dead worker'), 5000);
    expect(job.attempt).toBe(2);
    const [row] = await api.services.database.sql`select status, attempts, output from job_stages where job_id = ${jobId} and name = 'hangonce'`;
    expect(row).toMatchObject({ status: 'COMPLETED', attempts: 2, output: { attempt: 2 } });
    const [probe] = await api.services.database.sql`select attempts from job_stages where job_id = ${jobId} and name = 'probe'`;
    expect(probe.attempts).toBe(1); // finished work kept

    const [delivery] = await receiver.waitFor(1, 30_000);
    const payload = JSON.parse(delivery.body);
    expect(payload).toMatchObject({ type: 'job.completed', data: { job: { id: jobId, status: 'COMPLETED' } } });
    const note = payload.data.job.output.files.find((f: { kind: string }) => f.kind === 'hangonce');
    expect(await (await fetch(note.url)).text()).toBe('resumed on attempt 2\n');
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requests.filter((r) => r.headers['webhook-id'] === delivery.headers['webhook-id'])).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
    second.kill('SIGTERM');
    await second.exited;
  });

  it('leaves nothing running either when vidq exits at once on a second signal', async () => {
    const { worker, user, jobId, stage, child } = await hangingJobOnNewWorker('30', 'twice');
    worker.kill('SIGTERM'); // a graceful stop: the job has 30 s to finish…
    await waitFor('the stop to begin', async () => worker.output().includes('shutting down'), 10_000);
    worker.kill('SIGTERM'); // …but a second signal exits at once
    expect(await worker.exited).toBe(1);
    // Its whole group goes with it: the stage's own background child too, not only the stage.
    await waitFor('the stage and its child to be gone', async () => !isRunning(stage) && !isRunning(child), 5000, 20);
    await gql(api.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId });
  });

  it('hands its job back on a graceful stop even when the stage takes its whole SIGTERM grace to die', async () => {
    const { worker, user, jobId, stage, child } = await hangingJobOnNewWorker('1', 'stubborn', { ignoreTerm: true });
    worker.kill('SIGTERM');
    expect(await worker.exited, worker.output().slice(-3000)).toBe(0);
    expect(isRunning(stage) || isRunning(child)).toBe(false);
    // Handed back before the worker closed its database: queued again on a new queue job, retries kept.
    const retry = await waitForEvent(api, jobId, (e) => e.type === 'RETRY_SCHEDULED', 5000);
    expect(retry.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringMatching(/shut down/) });
    const [row] = await api.services.database.sql`select status from jobs where id = ${jobId}`;
    expect(row.status).toBe('QUEUED');
    await gql(api.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId });
  });
});
