// The LISTEN connection drops (pg_terminate_backend on application_name = 'vidq-events') while a
// subscriber follows a running job: the process reconnects and re-reads from the table what was
// committed meanwhile, so the subscriber misses nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvent } from '../../src/jobs/events';
import { LISTENER_APPLICATION_NAME } from '../../src/live/hub';
import { startTestApp, type TestApp } from '../helpers/app';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg';
import { gql, wsClient } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';
import { expectGapless, follow, JOB_EVENTS, JOB_UPDATED, sseCollect } from './helpers';

let mediaDir: string;
let app: TestApp;
const clients: Array<{ dispose(): unknown }> = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-events-'));
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

async function listenerPids(): Promise<number[]> {
  const rows = await app.services.database.sql`
    select pid from pg_stat_activity where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`;
  return rows.map((r) => r.pid as number);
}

describe('when the LISTEN connection drops', () => {
  it('reconnects, and subscribers receive what was committed while it was down, in order, without gaps', async () => {
    const clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
    // Thumbnails hang: the job stays PROCESSING until it is cancelled.
    const hang = await makeFaultyFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'hang', when: 'mjpeg' });
    app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails', FFMPEG_PATH: hang.path } });
    const user = await app.createUser();
    const admin = await app.createUser({ admin: true });
    const video = await seedVideo(app, user.id, clip);
    const jobId = (await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id;
    const c = wsClient(app.url, user.key);
    const a = wsClient(app.url, admin.key);
    clients.push(c, a);
    const follower = follow(c, JOB_UPDATED, { jobId }, 'jobUpdated');
    const everything = follow(a, JOB_EVENTS, {}, 'jobEvents');
    await follower.waitFor((e) => e.type === 'STAGE_STARTED' && e.stage === 'thumbnails');
    await everything.waitFor((e) => e.jobId === jobId && e.type === 'STAGE_STARTED' && e.stage === 'thumbnails');

    const [before] = await listenerPids();
    expect(before).toBeTruthy();
    const lastSeen = follower.results.at(-1).sequence;
    // In one transaction: the listener's backend is killed, then three events are committed. Their
    // NOTIFYs go out while no vidq-events connection listens: only a re-read can deliver them.
    await app.services.database.db.transaction(async (tx) => {
      await tx.execute(`select pg_terminate_backend(${before})`);
      for (let i = 1; i <= 3; i++) {
        await appendJobEvent(tx, jobId, {
          type: 'PROGRESS',
          status: 'PROCESSING',
          progress: 0.5,
          stage: 'thumbnails',
          data: { note: `while the listener was down #${i}` },
        });
      }
    });
    const missed = await follower.waitFor((e) => e.sequence === lastSeen + 3, 10_000);
    expect(missed.type).toBe('PROGRESS');
    await everything.waitFor((e) => e.jobId === jobId && e.sequence === lastSeen + 3, 10_000);
    const [after] = await waitFor(
      'a new listener backend',
      async () => {
        const pids = await listenerPids();
        return pids.length && pids[0] !== before ? pids : null;
      },
      10_000,
    );
    expect(after).not.toBe(before);

    // Live again: the job's end arrives through the new connection.
    const cancel = await gql(app.url, user.key, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
    expect(cancel.body.data.cancelJob.__typename).toBe('CancelJobSuccess');
    const events = await follower.done;
    expect(events.at(-1).type).toBe('CANCELLED');
    expectGapless(events.map((e) => e.sequence));
    expect(events.map((e) => e.sequence)).toEqual((await eventsOfJob(app, jobId)).map((e) => e.sequence));
    await everything.waitFor((e) => e.jobId === jobId && e.type === 'CANCELLED', 10_000);
    const seenByAdmin = everything.results.filter((e) => e.jobId === jobId).map((e) => e.sequence);
    // From its first event on, the admin's stream has every one of the job's events, once, in order.
    const from = seenByAdmin[0];
    expect(seenByAdmin).toEqual(Array.from({ length: events.at(-1).sequence - from + 1 }, (_, k) => from + k));
  });

  it('ends the streams of a key revoked while it was down (the NOTIFY was lost), once it is back', async () => {
    const other = await startTestApp({ env: { ROLE: 'api' } });
    try {
      const user = await other.createUser();
      const stream = sseCollect(other.url, user.key, JOB_EVENTS);
      // The stream is open and watched, and its key was read once more after it was watched (the read
      // that catches a revocation during the set-up): from now on only the NOTIFY, or the re-read after
      // a reconnect, can end it. This process's hub is the only one on this database, and nothing else
      // it reads goes to the key table.
      await waitFor(
        'the stream to hold its slot and its key to be checked',
        async () => {
          const [slot] = await other.services.database.sql`select n from limit_slots where kind = 'sse' and key_id = ${user.keyId}`;
          if (slot?.n !== 1) return false;
          const checked = await other.services.database.sql`
            select 1 from pg_stat_activity
            where datname = current_database() and application_name = 'vidq-events-read' and state = 'idle' and query like '%"api_keys"%'`;
          return checked.length > 0;
        },
        10_000,
      );
      const [listener] = (
        await other.services.database
          .sql`select pid from pg_stat_activity where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`
      ).map((r) => r.pid as number);
      // In one transaction: the listener's backend is killed, then the key is revoked; its NOTIFY goes
      // out while nothing listens.
      await other.services.database.db.transaction(async (tx) => {
        await tx.execute(`select pg_terminate_backend(${listener})`);
        await tx.execute(`update api_keys set revoked_at = now() where id = '${user.keyId}'`);
        await tx.execute(`select pg_notify('vidq_api_keys', '${user.keyId}')`);
      });
      const ended = await stream;
      expect(ended.completed).toBe(true);
      expect(ended.events.at(-1).errors[0].extensions.code).toBe('INVALID_API_KEY');
    } finally {
      await other.close();
    }
  });
});
