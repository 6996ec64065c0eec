import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';

// Only the API runs here: submitted jobs stay QUEUED, which is what these tests need.
let app: TestApp;
let owner: TestUser;
let mediaDir: string;
let clip: string;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  app = await startTestApp({ env: { ROLE: 'api' } });
  owner = await app.createUser({ name: 'owner', credits: 20 });
});
afterAll(async () => {
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

const countJobs = async () => Number((await app.services.database.sql`select count(*)::int as n from jobs`)[0].n);

describe('submitJob', () => {
  it('queues a job, reserves its credits and writes its first event', async () => {
    const video = await seedVideo(app, owner.id, clip);
    const res = await gql(app.url, owner.key, SUBMIT, { input: { videoId: video.id, model: 'PRO' } });
    const job = res.body.data.submitJob.job;
    expect(job).toMatchObject({ status: 'QUEUED', costCredits: 4, attempt: 0, maxAttempts: 4 });
    expect(job.id).toMatch(/^job_/);
    const [{ credits }] = await app.services.database.sql`select credits from users where id = ${owner.id}`;
    expect(credits).toBe(16);
    const events = await app.services.database.sql`select sequence, type, status from job_events where job_id = ${job.id}`;
    expect(events).toEqual([{ sequence: 1, type: 'QUEUED', status: 'QUEUED' }]);
    const queued = await app.services.database.sql`select state from pgboss.job where data->>'jobId' = ${job.id}`;
    expect(queued).toEqual([{ state: 'created' }]);
  });

  it('refuses a second job for a video whose job is still queued, naming both ids', async () => {
    const video = await seedVideo(app, owner.id, clip);
    const first = await gql(app.url, owner.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
    const firstId = first.body.data.submitJob.job.id;
    const before = await countJobs();
    const second = await gql(app.url, owner.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
    expect(second.body.data.submitJob).toMatchObject({
      __typename: 'JobAlreadyProcessingError',
      code: 'JOB_ALREADY_PROCESSING',
      jobId: firstId,
      videoId: video.id,
      message: 'A job for this video is already in progress.',
      detail: `Job '${firstId}' is currently processing video '${video.id}'.`,
    });
    expect(await countJobs()).toBe(before);
  });

  it('returns the first job for a repeated idempotency key and creates nothing', async () => {
    const video = await seedVideo(app, owner.id, clip);
    const input = { videoId: video.id, model: 'FAST', idempotencyKey: 'order-42' };
    const first = await gql(app.url, owner.key, SUBMIT, { input });
    const before = await countJobs();
    const [{ credits: creditsBefore }] = await app.services.database.sql`select credits from users where id = ${owner.id}`;
    const again = await gql(app.url, owner.key, SUBMIT, { input });
    expect(again.body.data.submitJob.job.id).toBe(first.body.data.submitJob.job.id);
    expect(await countJobs()).toBe(before);
    const [{ credits }] = await app.services.database.sql`select credits from users where id = ${owner.id}`;
    expect(credits).toBe(creditsBefore);
  });

  it('refuses a job the account cannot pay for, with the required and available credits', async () => {
    const poor = await app.createUser({ name: 'poor', credits: 1 });
    const video = await seedVideo(app, poor.id, clip);
    const before = await countJobs();
    const res = await gql(app.url, poor.key, SUBMIT, { input: { videoId: video.id, model: 'ORIGINAL' } });
    expect(res.body.data.submitJob).toMatchObject({
      __typename: 'InsufficientCreditsError',
      code: 'INSUFFICIENT_CREDITS',
      required: 2,
      available: 1,
      message: 'Account credits below required amount.',
      detail: expect.stringMatching(/^This job needs 2 credits; the account has 1 available\. An admin can add credits \(grantCredits/),
    });
    expect(await countJobs()).toBe(before);
    const ledger = await app.services.database.sql`select kind from credit_ledger where user_id = ${poor.id}`;
    expect(ledger.map((r) => r.kind)).toEqual(['GRANT']);
  });

  it('refuses transparency with MP4 and names the fix', async () => {
    const video = await seedVideo(app, owner.id, clip);
    const res = await gql(app.url, owner.key, SUBMIT, {
      input: { videoId: video.id, outputFormat: 'MP4', background: { remove: true } },
    });
    const result = res.body.data.submitJob;
    expect(result.__typename).toBe('InvalidInputError');
    expect(result.code).toBe('INVALID_INPUT');
    const paths = result.fieldErrors.map((f: { path: string[] }) => f.path.join('.'));
    expect(paths).toContain('input.outputFormat');
    expect(result.fieldErrors[0].message).toMatch(/WEBM/);
    expect(result.fieldErrors[0].message).toMatch(/replaceWith/);
  });

  it('accepts background removal onto a colour with MP4', async () => {
    const video = await seedVideo(app, owner.id, clip);
    const res = await gql(app.url, owner.key, SUBMIT, {
      input: { videoId: video.id, model: 'FAST', outputFormat: 'MP4', background: { replaceWith: '#ffffff' } },
    });
    expect(res.body.data.submitJob.__typename).toBe('SubmitJobSuccess');
  });

  it('names every invalid field: timeout over the limit, a webhook URL that is not http(s), a bad colour', async () => {
    const video = await seedVideo(app, owner.id, clip);
    const res = await gql(app.url, owner.key, SUBMIT, {
      input: {
        videoId: video.id,
        outputFormat: 'WEBM',
        timeoutSeconds: 999_999,
        webhookUrl: 'ftp://example.com/hook',
        background: { color: 'greenish' },
      },
    });
    const paths = res.body.data.submitJob.fieldErrors.map((f: { path: string[] }) => f.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['input.timeoutSeconds', 'input.webhookUrl', 'input.background.color']));
  });

  it('queues a job with the longest timeout PROCESSING_TIMEOUT_SECONDS allows (a day, less the queue expiry margin)', async () => {
    const longest = await startTestApp({ env: { ROLE: 'api', PROCESSING_TIMEOUT_SECONDS: '86370' }, database: app.database, dataDir: app.dataDir });
    try {
      const video = await seedVideo(longest, owner.id, clip);
      const res = await gql(longest.url, owner.key, SUBMIT, { input: { videoId: video.id, timeoutSeconds: 86_370 } });
      expect(res.body.data.submitJob.__typename).toBe('SubmitJobSuccess');
      await gql(longest.url, owner.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: res.body.data.submitJob.job.id });
    } finally {
      await longest.close();
    }
  });

  it('answers VideoNotFoundError for an unknown video and for another user’s video alike', async () => {
    const stranger = await app.createUser({ name: 'stranger' });
    const video = await seedVideo(app, owner.id, clip);
    const unknown = await gql(app.url, owner.key, SUBMIT, { input: { videoId: 'vid_doesnotexist' } });
    const foreign = await gql(app.url, stranger.key, SUBMIT, { input: { videoId: video.id } });
    expect(unknown.body.data.submitJob).toMatchObject({ __typename: 'VideoNotFoundError', detail: "No video with id 'vid_doesnotexist' exists." });
    expect(foreign.body.data.submitJob).toMatchObject({ __typename: 'VideoNotFoundError', detail: `No video with id '${video.id}' exists.` });
  });

  it('lets an admin submit a job for another user’s video, charged to that user', async () => {
    const admin = await app.createUser({ name: 'admin', admin: true, credits: 0 });
    const other = await app.createUser({ name: 'other', credits: 5 });
    const video = await seedVideo(app, other.id, clip);
    const res = await gql(app.url, admin.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
    expect(res.body.data.submitJob.__typename).toBe('SubmitJobSuccess');
    const [{ credits }] = await app.services.database.sql`select credits from users where id = ${other.id}`;
    expect(credits).toBe(4);
  });

  it('hides another user’s job and shows pricing', async () => {
    const stranger = await app.createUser({ name: 'nosy' });
    const video = await seedVideo(app, owner.id, clip);
    const res = await gql(app.url, owner.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
    const id = res.body.data.submitJob.job.id;
    const q = `query($id: ID!) { job(id: $id) { __typename ... on Job { id nextStep video { id jobs { id } } } ... on JobNotFoundError { detail } } }`;
    expect((await gql(app.url, owner.key, q, { id })).body.data.job).toMatchObject({ __typename: 'Job', id, video: { id: video.id, jobs: [{ id }] } });
    expect((await gql(app.url, stranger.key, q, { id })).body.data.job).toEqual({ __typename: 'JobNotFoundError', detail: `No job with id '${id}' exists.` });
    const pricing = await gql(app.url, owner.key, '{ pricing { unit models { model creditsPerStartedMinute } } }');
    expect(pricing.body.data.pricing.models).toEqual([
      { model: 'FAST', creditsPerStartedMinute: 1 },
      { model: 'ORIGINAL', creditsPerStartedMinute: 2 },
      { model: 'PRO', creditsPerStartedMinute: 4 },
    ]);
  });

  it('lists jobs newest first, filtered by status, a page at a time', async () => {
    const lister = await app.createUser({ name: 'lister', credits: 50 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const video = await seedVideo(app, lister.id, clip);
      ids.push((await gql(app.url, lister.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id);
    }
    const q = `query($after: String) { jobs(first: 2, after: $after, status: [QUEUED]) { __typename ... on JobConnection { nodes { id } pageInfo { hasNextPage endCursor } } } }`;
    const page1 = (await gql(app.url, lister.key, q)).body.data.jobs;
    expect(page1.nodes.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[1]]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await gql(app.url, lister.key, q, { after: page1.pageInfo.endCursor })).body.data.jobs;
    expect(page2.nodes.map((n: { id: string }) => n.id)).toEqual([ids[0]]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const none = await gql(app.url, lister.key, `{ jobs(status: [COMPLETED]) { ... on JobConnection { nodes { id } } } }`);
    expect(none.body.data.jobs.nodes).toEqual([]);
    const bad = await gql(app.url, lister.key, `{ jobs(first: 1000) { ... on InvalidInputError { code fieldErrors { path } } } }`);
    expect(bad.body.data.jobs).toEqual({ code: 'INVALID_INPUT', fieldErrors: [{ path: ['first'] }] });
  });
});
