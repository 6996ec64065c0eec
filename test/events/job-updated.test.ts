// jobUpdated over graphql-ws and SSE: replay then live, in order, without gaps or duplicates.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql, wsClient } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, submitClip, waitForEvent, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';
import { expectGapless, follow, JOB_UPDATED, makeSwitchableFfmpeg, type SwitchableFfmpeg, sseCollect } from './helpers';

let mediaDir: string;
let clip: string;
let app: TestApp;
let alice: TestUser;
let bob: TestUser;
let slow: SwitchableFfmpeg;
const clients: Array<{ dispose(): unknown }> = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-events-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  // When switched on, thumbnails take 2 s longer: long enough to drop a connection mid-job.
  slow = await makeSwitchableFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, when: 'mjpeg', seconds: 2 });
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails', FFMPEG_PATH: slow.path } });
  alice = await app.createUser({ name: 'alice' });
  bob = await app.createUser({ name: 'bob' });
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

function client(key: string) {
  const c = wsClient(app.url, key);
  clients.push(c);
  return c;
}

const submit = (user: TestUser) => submitClip(app, user, clip);

const label = (e: { type: string; stage: string | null }) => `${e.type}${e.stage ? `:${e.stage}` : ''}`;

describe('jobUpdated over graphql-ws', () => {
  it('streams every event of a processed job in order, exactly as stored, then completes', async () => {
    const jobId = await submit(alice);
    const stream = follow(client(alice.key), JOB_UPDATED, { jobId }, 'jobUpdated');
    const events = await stream.done;
    expect(events.every((e) => e.__typename === 'JobEvent' && e.jobId === jobId)).toBe(true);
    expectGapless(events.map((e) => e.sequence));
    expect(events.filter((e) => e.type !== 'PROGRESS').map(label)).toEqual([
      'QUEUED',
      'STARTED',
      'STAGE_STARTED:probe',
      'STAGE_COMPLETED:probe',
      'STAGE_STARTED:thumbnails',
      'STAGE_COMPLETED:thumbnails',
      'COMPLETED',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'COMPLETED', status: 'COMPLETED', progress: 1 });
    const stored = await eventsOfJob(app, jobId);
    expect(events.map((e) => [e.sequence, e.type, e.status, e.stage])).toEqual(stored.map((e) => [e.sequence, e.type, e.status, e.stage]));
  });

  it('misses nothing when the client drops its connection mid-job and resubscribes with the last sequence it saw', async () => {
    await slow.set('slow');
    const jobId = await submit(alice);
    const first = client(alice.key);
    const before = follow(first, JOB_UPDATED, { jobId }, 'jobUpdated');
    await before.waitFor((e) => e.type === 'STAGE_STARTED' && e.stage === 'probe');
    // The connection drops: the socket is gone, whatever was in flight with it.
    await first.dispose();
    const seen = before.results.slice();
    const lastSeen = seen.at(-1).sequence;
    // The job moves on while nobody listens.
    await waitForEvent(app, jobId, (e) => e.sequence > lastSeen + 1);
    expect((await eventsOfJob(app, jobId)).at(-1)!.type).not.toBe('COMPLETED'); // still running

    const after = follow(client(alice.key), JOB_UPDATED, { jobId, after: lastSeen }, 'jobUpdated');
    const rest = await after.done;
    await slow.set('normal');
    expect(rest[0].sequence).toBe(lastSeen + 1);
    const all = [...seen, ...rest];
    expectGapless(all.map((e) => e.sequence));
    expect(all.at(-1).type).toBe('COMPLETED');
    expect(all.map((e) => e.sequence)).toEqual((await eventsOfJob(app, jobId)).map((e) => e.sequence));
  });

  it('replays a finished job and completes; with the last sequence it completes at once with nothing', async () => {
    const jobId = await submit(alice);
    await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    const stored = await eventsOfJob(app, jobId);
    const replay = await follow(client(alice.key), JOB_UPDATED, { jobId }, 'jobUpdated').done;
    expect(replay.map((e) => e.sequence)).toEqual(stored.map((e) => e.sequence));
    expect(replay.at(-1).type).toBe('COMPLETED');

    const tail = await follow(client(alice.key), JOB_UPDATED, { jobId, after: stored.length - 2 }, 'jobUpdated').done;
    expect(tail.map((e) => e.sequence)).toEqual([stored.length - 1, stored.length]);
    const nothing = await follow(client(alice.key), JOB_UPDATED, { jobId, after: stored.length }, 'jobUpdated').done;
    expect(nothing).toEqual([]);
  });

  it('answers JobNotFoundError for an unknown id and for another user’s job alike, then completes', async () => {
    const jobId = await submit(alice);
    const unknown = await follow(client(bob.key), JOB_UPDATED, { jobId: 'job_doesnotexist0000000' }, 'jobUpdated').done;
    expect(unknown).toEqual([
      {
        __typename: 'JobNotFoundError',
        code: 'JOB_NOT_FOUND',
        message: 'The specified job could not be found.',
        detail: "No job with id 'job_doesnotexist0000000' exists.",
      },
    ]);
    const foreign = await follow(client(bob.key), JOB_UPDATED, { jobId }, 'jobUpdated').done;
    expect(foreign).toEqual([
      { __typename: 'JobNotFoundError', code: 'JOB_NOT_FOUND', message: 'The specified job could not be found.', detail: `No job with id '${jobId}' exists.` },
    ]);
    await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
  });

  it('lets an admin follow anybody’s job', async () => {
    const admin = await app.createUser({ name: 'root', admin: true });
    const jobId = await submit(alice);
    const events = await follow(client(admin.key), JOB_UPDATED, { jobId }, 'jobUpdated').done;
    expect(events.at(-1)).toMatchObject({ __typename: 'JobEvent', type: 'COMPLETED' });
  });

  it('keeps PROGRESS to a few per second per job, and always ends with the terminal event', async () => {
    // A transcode long enough to report progress many times.
    const transcoding = await startTestApp({ env: { JOB_STAGES: 'probe,transcode' } });
    try {
      const user = await transcoding.createUser();
      const long = await makeVideo(mediaDir, { format: 'mp4', seconds: 8, width: 640, height: 480, audio: false, name: 'long' });
      const video = await seedVideo(transcoding, user.id, long);
      const res = await gql(transcoding.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'PRO' } });
      const jobId = res.body.data.submitJob.job.id;
      const c = wsClient(transcoding.url, user.key);
      clients.push(c);
      const events = await follow(c, JOB_UPDATED, { jobId }, 'jobUpdated').done;
      const progress = events.filter((e) => e.type === 'PROGRESS').map((e) => Date.parse(e.at));
      expect(progress.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < progress.length; i++) expect(progress[i] - progress[i - 1]).toBeGreaterThanOrEqual(450);
      expectGapless(events.map((e) => e.sequence));
      expect(events.at(-1).type).toBe('COMPLETED');
    } finally {
      await transcoding.close();
    }
  });
});

describe('jobUpdated over SSE (POST /graphql with Accept: text/event-stream)', () => {
  it('streams the same events and ends the stream after the terminal one', async () => {
    const jobId = await submit(alice);
    const res = await sseCollect(app.url, alice.key, JOB_UPDATED, { jobId });
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    expect(res.completed).toBe(true);
    const events = res.events.map((e) => e.data.jobUpdated);
    expectGapless(events.map((e) => e.sequence));
    expect(events.at(-1).type).toBe('COMPLETED');
    expect(events.map((e) => e.sequence)).toEqual((await eventsOfJob(app, jobId)).map((e) => e.sequence));
  });

  it('resumes after afterSequence and answers JobNotFoundError for another user’s job', async () => {
    const jobId = await submit(alice);
    await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    const res = await sseCollect(app.url, alice.key, JOB_UPDATED, { jobId, after: 3 });
    expect(res.events.map((e) => e.data.jobUpdated.sequence)[0]).toBe(4);
    const foreign = await sseCollect(app.url, bob.key, JOB_UPDATED, { jobId });
    expect(foreign.events.map((e) => e.data.jobUpdated.__typename)).toEqual(['JobNotFoundError']);
    expect(foreign.completed).toBe(true);
  });

  it('refuses a request without a valid key with 401 before streaming anything', async () => {
    const none = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: JOB_UPDATED, variables: { jobId: 'job_x' } }),
    });
    expect(none.status).toBe(401);
    const bad = await sseCollect(app.url, 'vq_notakeynotakeynotakey', JOB_UPDATED, { jobId: 'job_x' });
    expect(bad.status).toBe(401);
  });
});

describe('a job retried after it ended', () => {
  it('replays past the earlier terminal event when more followed it, and completes at the last one', async () => {
    const jobId = await submit(alice);
    const cancel = await gql(app.url, alice.key, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
    expect(cancel.body.data.cancelJob.__typename).toBe('CancelJobSuccess');
    const retry = await gql(app.url, alice.key, `mutation($id: ID!) { retryJob(id: $id) { __typename } }`, { id: jobId });
    expect(retry.body.data.retryJob.__typename).toBe('RetryJobSuccess');
    await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
    const events = await follow(client(alice.key), JOB_UPDATED, { jobId }, 'jobUpdated').done;
    const types = events.map((e) => e.type);
    expect(types).toContain('CANCELLED');
    expect(types.indexOf('CANCELLED')).toBeLessThan(types.length - 1);
    expect(types.at(-1)).toBe('COMPLETED');
    expectGapless(events.map((e) => e.sequence));
  });
});
