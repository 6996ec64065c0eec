// Across processes: two API processes and one worker process on one database. A subscriber on the
// first API process sees every event of a job submitted through the second and run by the worker; a
// client that drops and resubscribes on the other API process misses nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys';
import { createUser } from '../../src/auth/users';
import { connectDatabase, type Database } from '../../src/db/client';
import type { TestApp } from '../helpers/app';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { gql, wsClient } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { freePort } from '../helpers/pg-urls';
import { killAllVidq, spawnVidq, untilServing, type VidqProcess } from '../helpers/processes';
import { expectGapless, follow, JOB_EVENTS, JOB_UPDATED } from './helpers';

let dataDir: string;
let database: TestDatabase;
let db: Database;
let apiA: string;
let apiB: string;
const processes: VidqProcess[] = [];
const clients: Array<{ dispose(): unknown }> = [];
/** Enough of a TestApp for the seeding helpers. */
let seedApp: TestApp;

async function startApi(): Promise<string> {
  const port = await freePort();
  const proc = spawnVidq(['serve', '--role', 'api'], {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    JOB_STAGES: 'probe,thumbnails',
  });
  processes.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await untilServing(proc, url);
  return url;
}

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-multi-'));
  database = await createTestDatabase();
  db = connectDatabase(database.url, { max: 2 });
  seedApp = { dataDir, services: { database: db } } as unknown as TestApp;
  const worker = spawnVidq(['serve', '--role', 'worker'], {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    JOB_STAGES: 'probe,thumbnails',
    MONITOR_INTERVAL_SECONDS: '1',
  });
  processes.push(worker);
  [apiA, apiB] = await Promise.all([startApi(), startApi()]);
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await killAllVidq();
  await db?.close();
  await database?.drop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function newUser(admin = false) {
  const user = await createUser(db.db, { name: admin ? 'root' : 'someone', isAdmin: admin, credits: 100 });
  const key = await createApiKey(db.db, user.id);
  return { id: user.id, key: key.key };
}

function client(url: string, key: string) {
  const c = wsClient(url, key);
  clients.push(c);
  return c;
}

describe('two API processes and a worker process', () => {
  it('a subscriber on one API process sees every event of a job submitted through the other and run by the worker', async () => {
    const user = await newUser();
    const admin = await newUser(true);
    const clip = await makeVideo(dataDir, { format: 'mp4', seconds: 1 });

    // The admin's stream on A is live once it shows a job submitted through B.
    const everything = follow(client(apiA, admin.key), JOB_EVENTS, {}, 'jobEvents');
    await waitFor(
      'the jobEvents stream on A to be live',
      async () => {
        const warm = await seedVideo(seedApp, user.id, clip);
        const res = await gql(apiB, user.key, SUBMIT, { input: { videoId: warm.id, model: 'FAST' } });
        const warmJob = res.body.data.submitJob.job.id;
        await new Promise((r) => setTimeout(r, 1_000));
        return everything.results.some((e) => e.jobId === warmJob);
      },
      30_000,
      0,
    );

    const video = await seedVideo(seedApp, user.id, clip);
    const submitted = await gql(apiB, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
    const jobId = submitted.body.data.submitJob.job.id;
    const events = await follow(client(apiA, user.key), JOB_UPDATED, { jobId }, 'jobUpdated').done;
    expectGapless(events.map((e) => e.sequence));
    expect(events.at(-1), JSON.stringify(events.at(-1))).toMatchObject({ type: 'COMPLETED', status: 'COMPLETED' });
    const stored = await eventsOfJob(seedApp, jobId);
    expect(events.map((e) => `${e.sequence}:${e.type}`)).toEqual(stored.map((e) => `${e.sequence}:${e.type}`));
    // The worker that ran it is a process of its own.
    expect(String(stored.find((e) => e.type === 'STARTED')?.data?.worker)).toMatch(/:\d+$/);

    // Every event of the job, live, on A's jobEvents stream too.
    await everything.waitFor((e) => e.jobId === jobId && e.type === 'COMPLETED', 20_000);
    expect(everything.results.filter((e) => e.jobId === jobId).map((e) => e.sequence)).toEqual(stored.map((e) => e.sequence));
  });

  it('a client that drops its connection to one API process and resubscribes on the other misses nothing', async () => {
    const user = await newUser();
    const clip = await makeVideo(dataDir, { format: 'mp4', seconds: 1, name: 'second' });
    const video = await seedVideo(seedApp, user.id, clip);
    const jobId = (await gql(apiA, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id;
    const onA = client(apiA, user.key);
    const first = follow(onA, JOB_UPDATED, { jobId }, 'jobUpdated');
    await first.waitFor(() => true, 20_000);
    await onA.dispose();
    const seen = first.results.slice();
    const rest = await follow(client(apiB, user.key), JOB_UPDATED, { jobId, after: seen.at(-1).sequence }, 'jobUpdated').done;
    const all = [...seen, ...rest];
    expectGapless(all.map((e) => e.sequence));
    expect(all.at(-1).type).toBe('COMPLETED');
  });
});
