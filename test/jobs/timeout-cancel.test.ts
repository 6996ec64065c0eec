import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRunning } from '../helpers/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STOP_WAIT_MS } from '../../src/jobs/handler';
import { startTestApp, type TestApp } from '../helpers/app';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor, waitForEvent, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';

let mediaDir: string;
let clip: string;
const apps: TestApp[] = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

async function start(env: Record<string, string>) {
  const app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails,transcode', ...env } });
  apps.push(app);
  return app;
}

const stages = async (app: TestApp, jobId: string) =>
  Object.fromEntries(
    (await app.services.database.sql`select name, status, attempts from job_stages where job_id = ${jobId} order by position`).map((s) => [
      s.name,
      `${s.status}×${s.attempts}`,
    ]),
  );

const RETRY = `mutation($id: ID!) { retryJob(id: $id) { __typename ... on RetryJobSuccess { job { id status } } ... on Error { code detail } } }`;
const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { __typename ... on CancelJobSuccess { job { id status } } ... on Error { code detail } } }`;

describe('a job that runs past its time limit', () => {
  it('is stopped (ffmpeg killed), reported TIMED_OUT with JOB_TIMEOUT, keeps finished stages, is not retried, and can be retried by hand', async () => {
    const hang = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'hang', when: 'libx264' });
    const app = await start({ FFMPEG_PATH: hang.path });
    const user = await app.createUser({ credits: 10 });
    const video = await seedVideo(app, user.id, clip);
    // Long enough for probe and thumbnails to finish on a loaded machine: only the hung transcode
    // (its ffmpeg never ends) can run into the deadline.
    const LIMIT = 10;
    const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST', timeoutSeconds: LIMIT } });
    const jobId = res.body.data.submitJob.job.id;

    const job = await waitForStatus(app, jobId, ['TIMED_OUT', 'COMPLETED', 'FAILED']);
    expect(job.status).toBe('TIMED_OUT');
    expect(job.error).toMatchObject({
      code: 'JOB_TIMEOUT',
      retryable: false,
      stage: 'transcode',
      message: 'The job exceeded the maximum processing time and was terminated.',
    });
    const ranFor = /^Job ran for (\d+) seconds, exceeding the limit of (\d+) seconds\.$/.exec(job.error!.detail!);
    expect(ranFor, job.error!.detail!).not.toBeNull();
    expect(Number(ranFor![2])).toBe(LIMIT);
    expect(Number(ranFor![1])).toBeGreaterThanOrEqual(LIMIT);
    // Stopped at its deadline: the attempt waits at most STOP_WAIT_MS for the stage to stop (the hung
    // ffmpeg dies at once), plus rounding.
    expect(Number(ranFor![1])).toBeLessThanOrEqual(LIMIT + Math.ceil(STOP_WAIT_MS / 1000) + 1);
    const pids = await hang.pids();
    await waitFor('the hung ffmpeg to be killed', async () => pids.every((pid) => !isRunning(pid)), 10_000);
    expect(await stages(app, jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'FAILED×1' });

    // Never retried automatically: the queue job settles and nothing runs again.
    await waitFor('the queue job to settle', async () => {
      const [row] = await app.services.database.sql`select state from pgboss.job where data->>'jobId' = ${jobId}`;
      return row?.state === 'completed';
    });
    const events = await eventsOfJob(app, jobId);
    expect(events.filter((e) => e.type === 'STARTED')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'TIMED_OUT', status: 'TIMED_OUT' });
    const ledger = await app.services.database.sql`select kind, amount from credit_ledger where job_id = ${jobId} order by id`;
    expect(ledger.map((r) => [r.kind, r.amount])).toEqual([
      ['RESERVE', -1],
      ['RELEASE', 1],
    ]);
    const out = await gql(app.url, user.key, `query($id: ID!) { jobOutput(jobId: $id) { __typename ... on JobTimeoutError { code detail } } }`, { id: jobId });
    expect(out.body.data.jobOutput).toEqual({ __typename: 'JobTimeoutError', code: 'JOB_TIMEOUT', detail: job.error!.detail });

    // What to do next: retry with a longer limit, which retryJob takes (a limit over the maximum is refused, nothing changes).
    const next = await gql(app.url, user.key, `query($id: ID!) { job(id: $id) { ... on Job { nextStep } } }`, { id: jobId });
    expect(next.body.data.job.nextStep).toMatch(/retryJob with a longer timeoutSeconds/);
    const RETRY_LONGER = `mutation($id: ID!, $t: Int) { retryJob(id: $id, timeoutSeconds: $t) { __typename
      ... on RetryJobSuccess { job { id status timeoutSeconds } } ... on InvalidInputError { fieldErrors { path message } } } }`;
    const tooLong = await gql(app.url, user.key, RETRY_LONGER, { id: jobId, t: 10 ** 7 });
    expect(tooLong.body.data.retryJob).toEqual({
      __typename: 'InvalidInputError',
      fieldErrors: [{ path: ['timeoutSeconds'], message: expect.stringMatching(/between 1 and \d+ \(PROCESSING_TIMEOUT_SECONDS\)/) }],
    });
    expect((await waitForStatus(app, jobId, ['TIMED_OUT'])).timeoutSeconds).toBe(LIMIT);

    // retryJob resumes at transcode: probe and thumbnails are not run again.
    const retried = await gql(app.url, user.key, RETRY_LONGER, { id: jobId, t: LIMIT * 6 });
    expect(retried.body.data.retryJob).toMatchObject({ __typename: 'RetryJobSuccess', job: { status: 'QUEUED', timeoutSeconds: LIMIT * 6 } });
    const requeued = (await eventsOfJob(app, jobId)).filter((e) => e.type === 'QUEUED').at(-1);
    expect(requeued?.data).toMatchObject({ retryOf: 'TIMED_OUT', timeoutSeconds: LIMIT * 6 });
    const done = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT']);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    expect(await stages(app, jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });
    const ledger2 = await app.services.database.sql`select kind from credit_ledger where job_id = ${jobId} order by id`;
    expect(ledger2.map((r) => r.kind)).toEqual(['RESERVE', 'RELEASE', 'RESERVE', 'CHARGE']);
  });

  it('ends TIMED_OUT when its worker died and the deadline passed before another picked it up', async () => {
    const api = await start({ ROLE: 'api' });
    const user = await api.createUser({ credits: 10 });
    const video = await seedVideo(api, user.id, clip);
    const res = await gql(api.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST', timeoutSeconds: 60 } });
    const jobId = res.body.data.submitJob.job.id;
    // As a worker that started it an hour ago and then died would have left it:
    await api.services.database
      .sql`update jobs set status = 'PROCESSING', attempt = 1, started_at = now() - interval '1 hour', deadline_at = now() - interval '59 minutes' where id = ${jobId}`;
    const worker = await startTestApp({ database: api.database, dataDir: api.dataDir, env: { ROLE: 'worker', JOB_STAGES: 'probe,thumbnails,transcode' } });
    apps.push(worker);
    const job = await waitForStatus(api, jobId, ['TIMED_OUT', 'COMPLETED', 'FAILED']);
    expect(job.status).toBe('TIMED_OUT');
    expect(job.error!.detail).toMatch(/^Job ran for 36\d\d seconds, exceeding the limit of 60 seconds\.$/);
    expect(await stages(api, jobId)).toEqual({ probe: 'PENDING×0', thumbnails: 'PENDING×0', transcode: 'PENDING×0' });
  });
});

describe('cancelJob', () => {
  it('cancels a queued job: removed from the queue, credits released', async () => {
    const api = await start({ ROLE: 'api' });
    const user = await api.createUser({ credits: 10 });
    const video = await seedVideo(api, user.id, clip);
    const jobId = (await gql(api.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id;
    const res = await gql(api.url, user.key, CANCEL, { id: jobId });
    expect(res.body.data.cancelJob).toEqual({ __typename: 'CancelJobSuccess', job: { id: jobId, status: 'CANCELLED' } });
    const [queued] = await api.services.database.sql`select state from pgboss.job where data->>'jobId' = ${jobId}`;
    expect(queued.state).toBe('cancelled');
    const [{ credits }] = await api.services.database.sql`select credits from users where id = ${user.id}`;
    expect(credits).toBe(10);
    const again = await gql(api.url, user.key, CANCEL, { id: jobId });
    expect(again.body.data.cancelJob.__typename).toBe('CancelJobSuccess');
    const events = await eventsOfJob(api, jobId);
    expect(events.map((e) => e.type)).toEqual(['QUEUED', 'CANCELLED']);
    // Its output: not complete, and waiting will not make it so.
    const out = await gql(api.url, user.key, `query($id: ID!) { jobOutput(jobId: $id) { __typename ... on JobNotCompleteError { status message detail } } }`, {
      id: jobId,
    });
    expect(out.body.data.jobOutput).toEqual({
      __typename: 'JobNotCompleteError',
      status: 'CANCELLED',
      message: 'The job has not finished processing.',
      detail: `Job '${jobId}' was cancelled before it completed: call retryJob to run it again (finished stages are kept).`,
    });
  });

  it('stops a running job within seconds, killing its ffmpeg; retryJob then finishes it reusing finished stages', async () => {
    const hang = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'hang', when: 'libx264' });
    const app = await start({ FFMPEG_PATH: hang.path });
    const user = await app.createUser({ credits: 10 });
    const video = await seedVideo(app, user.id, clip);
    const jobId = (await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id;
    await waitForEvent(app, jobId, (e) => e.type === 'STAGE_STARTED' && e.stage === 'transcode');
    await waitFor('the transcode ffmpeg to start', async () => (await hang.invocations()) === 1);
    const [pid] = (await hang.pids()).slice(-1);
    expect(isRunning(pid)).toBe(true);

    const res = await gql(app.url, user.key, CANCEL, { id: jobId });
    expect(res.body.data.cancelJob.job.status).toBe('CANCELLED');
    await waitFor('the running ffmpeg to be killed', async () => !isRunning(pid), 10_000);
    expect(await stages(app, jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'PENDING×1' });
    const events = await eventsOfJob(app, jobId);
    expect(events.at(-1)).toMatchObject({ type: 'CANCELLED' });
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));

    const completedTooEarly = await gql(app.url, user.key, CANCEL, { id: 'job_unknown' });
    expect(completedTooEarly.body.data.cancelJob.__typename).toBe('JobNotFoundError');

    expect((await gql(app.url, user.key, RETRY, { id: jobId })).body.data.retryJob.__typename).toBe('RetryJobSuccess');
    const done = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT']);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    expect(await stages(app, jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×2' });
    const notAgain = await gql(app.url, user.key, CANCEL, { id: jobId });
    expect(notAgain.body.data.cancelJob).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    const retryDone = await gql(app.url, user.key, RETRY, { id: jobId });
    expect(retryDone.body.data.retryJob).toMatchObject({ __typename: 'InvalidInputError' });
  });
});
