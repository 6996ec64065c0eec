// Routing jobs to the workers that can run them: one queue per pipeline, WORKER_PIPELINES per worker.
// An API process and two worker processes share a database and DATA_DIR; each worker serves one
// pipeline; a job of a pipeline nobody serves waits in QUEUED and the stuck-queue alert names it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseStuckQueuedAlerts } from '../../src/alerts/scan';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { gql } from '../helpers/graphql';
import { seedVideo, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';

const PIPELINES_FILE = path.resolve(import.meta.dirname, 'fixtures/stages/pipelines.json');
let database: TestDatabase;
let dataDir: string;
let api: TestApp;
let defaultWorker: TestApp;
let annotatedWorker: TestApp;
let user: TestUser;
let clip: string;

const SUBMIT = `mutation($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on SubmitJobSuccess { job { id } } ... on Error { code message } } }`;

async function submit(pipeline: string, stageOptions?: Record<string, unknown>) {
  const video = await seedVideo(api, user.id, clip);
  const res = await gql(api.url, user.key, SUBMIT, { input: { videoId: video.id, pipeline, stageOptions, model: 'FAST' } });
  return res.body.data.submitJob.job.id as string;
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-routing-'));
  const env = { PIPELINES_FILE, JOB_STAGES: 'probe,thumbnails', QUEUED_ALERT_SECONDS: '1' };
  api = await startTestApp({ database, dataDir, env: { ...env, ROLE: 'api' } });
  defaultWorker = await startTestApp({ database, dataDir, env: { ...env, ROLE: 'worker', WORKER_PIPELINES: 'default' } });
  annotatedWorker = await startTestApp({ database, dataDir, env: { ...env, ROLE: 'worker', WORKER_PIPELINES: 'annotated,flaky' } });
  user = await api.createUser({ credits: 1000 });
  clip = await makeVideo(dataDir, { format: 'mp4', seconds: 1, name: 'clip' });
});
afterAll(async () => {
  await annotatedWorker?.close();
  await defaultWorker?.close();
  await api?.close();
  await database?.drop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('WORKER_PIPELINES', () => {
  it('sends each job to a worker that serves its pipeline', async () => {
    const [plain, annotated] = await Promise.all([submit('default'), submit('annotated')]);
    for (const id of [plain, annotated]) expect((await waitForStatus(api, id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
    // The lease each job ran under is the serving worker's.
    const leaseOf = async (id: string) => Number((await api.services.database.sql`select worker_lock from jobs where id = ${id}`)[0].worker_lock);
    expect(await leaseOf(plain)).toBe(defaultWorker.services.lease.id);
    expect(await leaseOf(annotated)).toBe(annotatedWorker.services.lease.id);
  });

  it('a job no running worker serves stays QUEUED, and the stuck-queue alert names its pipeline', async () => {
    const waiting = await submit('exits', { exitwith: { code: 0 } });
    await new Promise((r) => setTimeout(r, 2500));
    const [job] = await api.services.database.sql`select status, attempt from jobs where id = ${waiting}`;
    expect(job).toMatchObject({ status: 'QUEUED', attempt: 0 }); // never tried on a worker that cannot run it
    expect(await raiseStuckQueuedAlerts(api.services)).toBeGreaterThanOrEqual(1);
    const [alert] = await api.services.database.sql`select message, next_step, data from alerts where job_id = ${waiting} and kind = 'JOB_STUCK_QUEUED'`;
    expect(alert.message).toContain('no running worker serves pipeline "exits"');
    expect(alert.next_step).toContain('WORKER_PIPELINES must include it');
    expect(alert.data).toMatchObject({ pipeline: 'exits', servedByAWorker: false });

    // A worker for it comes up: the job runs.
    const late = await startTestApp({ database, dataDir, env: { PIPELINES_FILE, ROLE: 'worker', WORKER_PIPELINES: 'exits' } });
    try {
      expect((await waitForStatus(api, waiting, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
    } finally {
      await late.close();
    }
  });

  it('an unknown pipeline in WORKER_PIPELINES stops the worker’s start, naming it', async () => {
    await expect(startTestApp({ database, dataDir, env: { PIPELINES_FILE, ROLE: 'worker', WORKER_PIPELINES: 'default,nope' } })).rejects.toThrow(
      'WORKER_PIPELINES: unknown pipeline "nope" (this deployment runs: default, hls, annotated, exits, flaky, hangs, slow, crashy)',
    );
  });
});
