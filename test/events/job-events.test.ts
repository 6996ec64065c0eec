// jobEvents(status): every event of the viewer's jobs (all jobs for an admin), live.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { wsClient } from '../helpers/graphql';
import { eventsOfJob, submitClip, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { expectGapless, follow, type Followed, JOB_EVENTS } from './helpers';

let mediaDir: string;
let clip: string;
let app: TestApp;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
const clients: Array<{ dispose(): unknown }> = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-events-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails' } });
  alice = await app.createUser({ name: 'alice' });
  bob = await app.createUser({ name: 'bob' });
  admin = await app.createUser({ name: 'root', admin: true });
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

/** A stream is live once it shows an event of a job submitted after it was opened. */
async function live(stream: Followed, user: TestUser) {
  const warmUp = await submit(user);
  await stream.waitFor((e) => e.jobId === warmUp, 20_000);
  await waitForStatus(app, warmUp, ['COMPLETED', 'FAILED']);
  await stream.waitFor((e) => e.jobId === warmUp && e.type === 'COMPLETED', 20_000);
}

describe('jobEvents', () => {
  it("streams every event of the viewer's own jobs only; an admin's stream has everyone's; status filters", async () => {
    const aliceStream = follow(client(alice.key), JOB_EVENTS, {}, 'jobEvents');
    const bobStream = follow(client(bob.key), JOB_EVENTS, {}, 'jobEvents');
    const adminStream = follow(client(admin.key), JOB_EVENTS, {}, 'jobEvents');
    const finished = follow(client(admin.key), JOB_EVENTS, { status: ['COMPLETED', 'FAILED'] }, 'jobEvents');
    await live(aliceStream, alice);
    await live(bobStream, bob);
    await adminStream.waitFor((e) => e.type === 'COMPLETED');
    await finished.waitFor((e) => e.type === 'COMPLETED');

    const [a, b] = [await submit(alice), await submit(bob)];
    await waitForStatus(app, a, ['COMPLETED', 'FAILED']);
    await waitForStatus(app, b, ['COMPLETED', 'FAILED']);
    for (const [stream, jobId] of [
      [aliceStream, a],
      [bobStream, b],
      [adminStream, a],
      [adminStream, b],
      [finished, a],
      [finished, b],
    ] as const) {
      await stream.waitFor((e) => e.jobId === jobId && e.type === 'COMPLETED', 20_000);
    }
    const storedA = await eventsOfJob(app, a);
    const storedB = await eventsOfJob(app, b);
    const of = (stream: Followed, jobId: string) => stream.results.filter((e) => e.jobId === jobId);

    // Each job's events: all of them, in order, once.
    expect(of(aliceStream, a).map((e) => e.sequence)).toEqual(storedA.map((e) => e.sequence));
    expect(of(bobStream, b).map((e) => e.sequence)).toEqual(storedB.map((e) => e.sequence));
    expect(of(adminStream, a).map((e) => e.sequence)).toEqual(storedA.map((e) => e.sequence));
    expect(of(adminStream, b).map((e) => e.sequence)).toEqual(storedB.map((e) => e.sequence));
    expectGapless(of(adminStream, a).map((e) => e.sequence));
    // Nobody sees another user's job.
    expect(aliceStream.results.some((e) => e.jobId === b)).toBe(false);
    expect(bobStream.results.some((e) => e.jobId === a)).toBe(false);
    // The filtered stream has only events leaving a job COMPLETED or FAILED.
    expect(finished.results.every((e) => e.status === 'COMPLETED' || e.status === 'FAILED')).toBe(true);
    expect(of(finished, a).map((e) => e.type)).toEqual(['COMPLETED']);
    // These streams never complete by themselves.
    expect(aliceStream.completed()).toBe(false);
    for (const s of [aliceStream, bobStream, adminStream, finished]) s.stop();
  });
});
