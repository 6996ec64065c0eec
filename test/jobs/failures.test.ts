import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentReport } from '../../src/jobs/incident-report';
import { startTestApp, type TestApp } from '../helpers/app';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';

let mediaDir: string;
let clip: string;
const apps: TestApp[] = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1, audio: true });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

async function appWithFfmpeg(ffmpegPath: string, env: Record<string, string> = {}) {
  const app = await startTestApp({ env: { FFMPEG_PATH: ffmpegPath, JOB_STAGES: 'probe,thumbnails,transcode', ...env } });
  apps.push(app);
  return app;
}

async function submit(app: TestApp, credits = 10) {
  const user = await app.createUser({ credits });
  const video = await seedVideo(app, user.id, clip);
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
  return { user, video, jobId: res.body.data.submitJob.job.id as string };
}

const TYPED_EVENTS = `
  query ($id: ID!) {
    job(id: $id) {
      ... on Job {
        events {
          type
          details {
            __typename
            ... on JobQueuedDetails { costCredits stages retryOf }
            ... on JobStartedDetails { attempt maxAttempts recovered }
            ... on RetryScheduledDetails { attempt retriesLeft backoff reason }
            ... on StageProgressDetails { stageProgress }
            ... on StageCompletedDetails { stageStatus skipReason }
            ... on JobEndedDetails { retriesExhausted }
          }
        }
      }
    }
  }
`;

const stageAttempts = async (app: TestApp, jobId: string) =>
  Object.fromEntries(
    (await app.services.database.sql`select name, status, attempts from job_stages where job_id = ${jobId} order by position`).map((s) => [
      s.name,
      `${s.status}×${s.attempts}`,
    ]),
  );

const queueState = async (app: TestApp, jobId: string) =>
  (await app.services.database.sql`select state from pgboss.job where data->>'jobId' = ${jobId}`)[0]?.state;

describe('transient failures', () => {
  it('are retried with growing delays, resuming at the failed stage without re-running finished ones', async () => {
    const faulty = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 2, mode: 'crash', when: 'libx264' });
    const app = await appWithFfmpeg(faulty.path, { JOB_MAX_RETRIES: '3', JOB_RETRY_DELAY_SECONDS: '1' });
    const { jobId, user } = await submit(app);
    const job = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
    expect(job.attempt).toBe(3);

    // The same log over GraphQL, with typed details per event type.
    const typed = await gql(app.url, user.key, TYPED_EVENTS, { id: jobId });
    const details: Array<Record<string, unknown>> = (typed.body.data.job.events as Array<{ type: string; details: object }>).map((e) => ({
      type: e.type,
      ...e.details,
    }));
    expect(details[0]).toMatchObject({ type: 'QUEUED', __typename: 'JobQueuedDetails', stages: ['probe', 'thumbnails', 'transcode'], retryOf: null });
    expect(details[0].costCredits).toBeGreaterThan(0);
    expect(details.filter((d) => d.type === 'STARTED')).toEqual(
      [1, 2, 3].map((attempt) => ({ type: 'STARTED', __typename: 'JobStartedDetails', attempt, maxAttempts: 4, recovered: false })),
    );
    expect(details.filter((d) => d.type === 'RETRY_SCHEDULED')).toEqual(
      [1, 2].map((attempt) => ({
        type: 'RETRY_SCHEDULED',
        __typename: 'RetryScheduledDetails',
        attempt,
        retriesLeft: 4 - attempt,
        backoff: 'exponential from 1s',
        reason: expect.stringMatching(/killed|signal/i),
      })),
    );
    expect(details.find((d) => d.type === 'PROGRESS')).toMatchObject({ __typename: 'StageProgressDetails', stageProgress: expect.any(Number) });
    expect(details.find((d) => d.type === 'STAGE_COMPLETED')).toMatchObject({
      __typename: 'StageCompletedDetails',
      stageStatus: 'COMPLETED',
      skipReason: null,
    });
    expect(details.at(-1)).toEqual({ type: 'COMPLETED', __typename: 'JobEndedDetails', retriesExhausted: false });
    expect(await stageAttempts(app, jobId)).toEqual({ probe: 'COMPLETED×1', thumbnails: 'COMPLETED×1', transcode: 'COMPLETED×3' });
    expect(await faulty.invocations()).toBe(3);
    // Support sees that it got over two failures, and which.
    expect((await incidentReport(app.services.database.db, job)).symptom).toBe('completed after 2 automatic retries (SERVICE_UNAVAILABLE)');

    const events = await eventsOfJob(app, jobId);
    const retries = events.filter((e) => e.type === 'RETRY_SCHEDULED');
    const starts = events.filter((e) => e.type === 'STARTED');
    expect(retries).toHaveLength(2);
    expect(starts.map((e) => e.data?.attempt)).toEqual([1, 2, 3]);
    for (const retry of retries) {
      expect(retry.status).toBe('QUEUED');
      expect(retry.stage).toBe('transcode');
      expect(retry.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true, stage: 'transcode' });
      expect(retry.data?.reason).toMatch(/killed|signal/i);
    }
    // pg-boss's backoff: retryDelay × 2^(n-1), with jitter up to the same again: 1–2 s, then 2–4 s.
    const delays = [0, 1].map((i) => (new Date(starts[i + 1].data!.scheduledFor as string).getTime() - retries[i].at.getTime()) / 1000);
    expect(delays[0]).toBeGreaterThanOrEqual(0.9);
    expect(delays[0]).toBeLessThanOrEqual(2.1);
    expect(delays[1]).toBeGreaterThanOrEqual(1.9);
    expect(delays[1]).toBeLessThanOrEqual(4.1);
    expect(delays[1]).toBeGreaterThan(delays[0]);
  });

  it('fail the job once the retries are used up, saying retryJob may help', async () => {
    const faulty = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 100, mode: 'exit1', when: 'libx264' });
    const app = await appWithFfmpeg(faulty.path, { JOB_MAX_RETRIES: '1' });
    const { jobId, user } = await submit(app);
    const job = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    expect(job.status).toBe('FAILED');
    expect(job.attempt).toBe(2);
    expect(job.error).toMatchObject({ stage: 'transcode', retryable: true });
    const events = await eventsOfJob(app, jobId);
    expect(events.filter((e) => e.type === 'RETRY_SCHEDULED')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'FAILED', status: 'FAILED' });
    expect(events.at(-1)!.data).toMatchObject({ retriesExhausted: true });
    await waitFor('the queue job to settle', async () => (await queueState(app, jobId)) === 'completed');
    const out = await gql(
      app.url,
      user.key,
      `query($id: ID!) { jobOutput(jobId: $id) { __typename ... on JobFailedError { code error { code stage retryable detail } } } }`,
      { id: jobId },
    );
    expect(out.body.data.jobOutput).toMatchObject({ __typename: 'JobFailedError', code: 'JOB_FAILED', error: { stage: 'transcode', retryable: true } });
    const q = await gql(app.url, user.key, `query($id: ID!) { job(id: $id) { ... on Job { nextStep } } }`, { id: jobId });
    expect(q.body.data.job.nextStep).toMatch(/retryJob/);
  });
  it('count the retries the job has left, not its queue job’s alone (a hand-over gives it a new queue job)', async () => {
    const faulty = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 100, mode: 'exit1', when: 'libx264' });
    const app = await appWithFfmpeg(faulty.path, { JOB_MAX_RETRIES: '3', JOB_RETRY_DELAY_SECONDS: '1' });
    const { jobId } = await submit(app);
    // As after a hand-over on its second attempt: the queue job allows 3 retries, the job 1. Set before
    // the transcode fails (probe and thumbnails run first); the handler reads the row when it fails.
    await app.services.database.sql`update jobs set max_attempts = 2 where id = ${jobId}`;
    const job = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    expect(job).toMatchObject({ status: 'FAILED', attempt: 2 });
    const retries = (await eventsOfJob(app, jobId)).filter((e) => e.type === 'RETRY_SCHEDULED');
    expect(retries.map((e) => e.data?.retriesLeft)).toEqual([1]);
  });
});

describe('permanent failures', () => {
  it('fail the job at once with the decoder’s words, without a retry, releasing the credits', async () => {
    const app = await appWithFfmpeg(binaries.ffmpeg);
    const user = await app.createUser({ credits: 10 });
    const video = await seedVideo(app, user.id, clip);
    // The stored source got damaged after upload.
    await fs.writeFile(path.join(app.dataDir, video.storagePath), Buffer.alloc(4096, 7));
    const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
    const jobId = res.body.data.submitJob.job.id;
    const job = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    expect(job.status).toBe('FAILED');
    expect(job.attempt).toBe(1);
    expect(job.error).toMatchObject({ code: 'VIDEO_CORRUPT', stage: 'probe', retryable: false });
    expect(job.error!.detail.length).toBeGreaterThan(5);
    const events = await eventsOfJob(app, jobId);
    expect(events.some((e) => e.type === 'RETRY_SCHEDULED')).toBe(false);
    await waitFor('the queue job to settle', async () => (await queueState(app, jobId)) === 'completed');
    const ledger = await app.services.database.sql`select kind, amount from credit_ledger where job_id = ${jobId} order by id`;
    expect(ledger.map((r) => [r.kind, r.amount])).toEqual([
      ['RESERVE', -1],
      ['RELEASE', 1],
    ]);
    const [{ credits }] = await app.services.database.sql`select credits from users where id = ${user.id}`;
    expect(credits).toBe(10);
  });
});
