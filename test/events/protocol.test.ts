// graphql-transport-ws details of the subscription fast path, seen on a bare socket: the same messages
// and close codes graphql-ws itself would use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJobRow, insertVideoRow } from '../helpers/rows';
import { appendJobEvent } from '../../src/jobs/events';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { waitFor } from '../helpers/jobs';
import { openSocket, type RawSocket } from './helpers';

let app: TestApp;
let user: TestUser;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  app = await startTestApp({ env: { ROLE: 'api' } });
  user = await app.createUser();
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await app?.close();
});

/** A job PROCESSING as a worker would have left it, whose events the test appends itself. */
async function runningJob(ownerId: string) {
  const db = app.services.database.db;
  const video = await insertVideoRow(db, ownerId);
  const jobId = await insertJobRow(db, ownerId, video.id, { status: 'PROCESSING' });
  return {
    jobId,
    progress: (progress: number) => db.transaction((tx) => appendJobEvent(tx, jobId, { type: 'PROGRESS', status: 'PROCESSING', progress, stage: 'transcode' })),
    complete: () => db.transaction((tx) => appendJobEvent(tx, jobId, { type: 'COMPLETED', status: 'COMPLETED', progress: 1 })),
  };
}

async function socket() {
  const s = openSocket(app.url, user.key);
  sockets.push(s);
  await s.acked;
  return s;
}

const FOLLOW = 'subscription($jobId: ID!) { jobUpdated(jobId: $jobId) { ... on JobEvent { sequence type } } }';
const of = (s: RawSocket, id: string) => s.messages.filter((m) => m.id === id);

describe('subscriptions on a socket', () => {
  it('send next messages, then complete after the terminal event; two subscriptions of one job each get every event', async () => {
    const job = await runningJob(user.id);
    await job.progress(0.1);
    const s = await socket();
    s.send({ id: 'a', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: job.jobId } } });
    s.send({ id: 'b', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: job.jobId } } });
    await waitFor('the replay', async () => of(s, 'a').length === 1 && of(s, 'b').length === 1, 5_000, 20);
    await job.progress(0.5);
    await job.complete();
    await waitFor('the end of both', async () => of(s, 'a').at(-1)?.type === 'complete' && of(s, 'b').at(-1)?.type === 'complete', 5_000, 20);
    for (const id of ['a', 'b']) {
      expect(of(s, id)).toEqual([
        { id, type: 'next', payload: { data: { jobUpdated: { sequence: 1, type: 'PROGRESS' } } } },
        { id, type: 'next', payload: { data: { jobUpdated: { sequence: 2, type: 'PROGRESS' } } } },
        { id, type: 'next', payload: { data: { jobUpdated: { sequence: 3, type: 'COMPLETED' } } } },
        { id, type: 'complete' },
      ]);
    }
  });

  it('stop at the client’s complete message, and the id can be used again', async () => {
    const job = await runningJob(user.id);
    const s = await socket();
    s.send({ id: 'x', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: job.jobId } } });
    await job.progress(0.1);
    await waitFor('the first event', async () => of(s, 'x').length === 1, 5_000, 20);
    s.send({ id: 'x', type: 'complete' });
    await new Promise((r) => setTimeout(r, 100));
    await job.progress(0.2);
    await new Promise((r) => setTimeout(r, 300));
    expect(of(s, 'x')).toHaveLength(1);
    s.send({ id: 'x', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: job.jobId } } });
    await waitFor('the replay under the same id', async () => of(s, 'x').length === 3, 5_000, 20);
    expect(
      of(s, 'x')
        .slice(1)
        .map((m) => m.payload.data.jobUpdated.sequence),
    ).toEqual([1, 2]);
  });

  it('answer an invalid operation with an error message and keep the socket; queries still run beside subscriptions', async () => {
    const s = await socket();
    s.send({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { jobUpdated(jobId: "x") { ... on JobEvent { nope } } }' } });
    s.send({ id: 'syntax', type: 'subscribe', payload: { query: 'subscription {' } });
    s.send({ id: 'q', type: 'subscribe', payload: { query: '{ viewer { id } }' } });
    await waitFor('three answers', async () => of(s, 'bad').length && of(s, 'syntax').length && of(s, 'q').length === 2, 5_000, 20);
    expect(of(s, 'bad')[0]).toMatchObject({ type: 'error', payload: [{ message: expect.stringContaining('nope') }] });
    expect(of(s, 'syntax')[0]).toMatchObject({ type: 'error', payload: [{ message: expect.stringContaining('Syntax Error') }] });
    expect(of(s, 'q')).toEqual([
      { id: 'q', type: 'next', payload: { data: { viewer: { id: user.id } } } },
      { id: 'q', type: 'complete' },
    ]);
    expect(s.ws.readyState).toBe(s.ws.OPEN);
  });

  it('close the socket with 4409 when an id already in use is subscribed again', async () => {
    const job = await runningJob(user.id);
    const s = await socket();
    s.send({ id: 'dup', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: job.jobId } } });
    await new Promise((r) => setTimeout(r, 200));
    s.send({ id: 'dup', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: job.jobId } } });
    expect(await s.closed).toEqual({ code: 4409, reason: 'Subscriber for dup already exists' });
  });

  it('refuse a subscribe message before connection_ack with 4401, as graphql-ws does', async () => {
    const s = openSocket(app.url, null);
    sockets.push(s);
    await new Promise<void>((resolve) => s.ws.once('open', () => resolve()));
    // connection_init (without a key) is on its way; a subscribe right behind it arrives before any ack.
    s.send({ id: '1', type: 'subscribe', payload: { query: FOLLOW, variables: { jobId: 'job_x' } } });
    expect([4401, 4403]).toContain((await s.closed).code);
  });
});
