// A job left PROCESSING by a worker that lives on, with no queue job to run it: here the queue takes the
// claim away from a running attempt (an operator's cancel() or fail() on the queue job; missed heartbeats
// do the same). The attempt stops as "no longer owned" and records nothing, so without the maintenance
// job's sweep the job would stay PROCESSING forever: no deadline, no event, no webhook, credits held.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handOnStrandedJobs } from '../../src/jobs/crash-recovery';
import { PGBOSS_SCHEMA, processingQueue } from '../../src/queue/queues';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitFor, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { isRunning } from '../helpers/processes';

const FIXTURES = path.resolve(import.meta.dirname, '../pipeline/fixtures/stages');
let dir: string;
let clip: string;
const apps: TestApp[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-stranded-'));
  process.env.HANG_PIDS_DIR = dir;
  clip = await makeVideo(dir, { format: 'mp4', seconds: 1, name: 'clip' });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function appWithRetries(retries: number) {
  const app = await startTestApp({
    env: { PIPELINES_FILE: path.join(FIXTURES, 'pipelines.json'), JOB_MAX_RETRIES: String(retries), JOB_RETRY_DELAY_SECONDS: '1', HEARTBEAT_SECONDS: '10' },
  });
  apps.push(app);
  return { app, user: await app.createUser({ credits: 1000 }) };
}

async function submitHanging(app: TestApp, user: TestUser) {
  const video = await seedVideo(app, user.id, clip);
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, pipeline: 'hangs' } });
  return res.body.data.submitJob.job.id as string;
}

/** The attempt is running its stage (its pids written): its queue job and the stage's processes. */
async function runningAttempt(app: TestApp, jobId: string, attempt: number) {
  return waitFor(`attempt ${attempt} of ${jobId} to run its stage`, async () => {
    const [row] = await app.services.database.sql`select status, attempt, queue_job_id from jobs where id = ${jobId}`;
    const pids = await fs.readFile(path.join(dir, jobId), 'utf8').catch(() => '');
    if (row?.status !== 'PROCESSING' || row.attempt !== attempt || !pids.trim()) return null;
    await fs.rm(path.join(dir, jobId));
    return { queueJobId: row.queue_job_id as string, pids: pids.trim().split(' ').map(Number) };
  });
}

/** The queue takes the claim away; the attempt stops (the heartbeat notices within 4 s) and records nothing. */
async function loseClaim(app: TestApp, jobId: string, running: { queueJobId: string; pids: number[] }, how: 'cancel' | 'fail') {
  const queue = processingQueue('hangs');
  if (how === 'cancel') await app.services.boss.cancel(queue, running.queueJobId);
  else await app.services.boss.fail(queue, running.queueJobId, { message: 'failed by the test' });
  await waitFor('the attempt to stop its stage', async () => !running.pids.some(isRunning), 20_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Nothing else moves it: still PROCESSING. The sweep leaves a job alone for a minute; backdated here.
  expect((await app.services.database.sql`select status from jobs where id = ${jobId}`)[0].status).toBe('PROCESSING');
  expect(await handOnStrandedJobs(app.services)).toEqual([]);
  await app.services.database.sql`update jobs set updated_at = now() - interval '2 minutes' where id = ${jobId}`;
  await app.services.database.sql`
    update ${app.services.database.sql(PGBOSS_SCHEMA)}.job set completed_on = now() - interval '2 minutes' where id = ${running.queueJobId}`;
}

describe('a job stranded PROCESSING with no queue job', () => {
  it('gets a new queue job while attempts are left (resuming at its stage), and fails for good after the last', async () => {
    const { app, user } = await appWithRetries(1);
    const jobId = await submitHanging(app, user);

    await loseClaim(app, jobId, await runningAttempt(app, jobId, 1), 'cancel');
    expect(await handOnStrandedJobs(app.services)).toEqual([jobId]);
    const second = await runningAttempt(app, jobId, 2);
    expect((await eventsOfJob(app, jobId)).filter((e) => e.type === 'STARTED').map((e) => (e.data as { recovered?: boolean }).recovered ?? false)).toEqual([
      false,
      true,
    ]);

    await loseClaim(app, jobId, second, 'cancel');
    expect(await handOnStrandedJobs(app.services)).toEqual([jobId]);
    const job = await waitForStatus(app, jobId, ['FAILED'], 10_000);
    expect(job.error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      detail:
        'Attempt 2 stopped without recording its end (its queue claim was lost, or the database failed as it ended) and no automatic retries are left; retryJob runs it again from its last finished stage.',
      retryable: true,
    });
    expect((await eventsOfJob(app, jobId)).at(-1)).toMatchObject({ type: 'FAILED', data: expect.objectContaining({ retriesExhausted: true, attempts: 2 }) });
    // Its credits are given back, as for any failed job.
    const [credits] = await app.services.database.sql`select credits from users where id = ${user.id}`;
    expect(credits.credits).toBe(1000);
  });

  it('whose queue job failed for good (its retries used up) fails at once, whatever attempts the job has left', async () => {
    const { app, user } = await appWithRetries(0);
    const jobId = await submitHanging(app, user);
    await loseClaim(app, jobId, await runningAttempt(app, jobId, 1), 'fail');
    expect(await handOnStrandedJobs(app.services)).toEqual([jobId]);
    expect((await waitForStatus(app, jobId, ['FAILED'], 10_000)).error).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      detail: expect.stringMatching(/^Attempt 1 stopped without/),
    });
    expect(await handOnStrandedJobs(app.services)).toEqual([]);
  });

  it('QUEUED whose queue job ended gets a new one, and runs', async () => {
    const { app, user } = await appWithRetries(1);
    const jobId = await submitHanging(app, user);
    const { queueJobId, pids } = await runningAttempt(app, jobId, 1);
    // Back to QUEUED as a retry leaves it, but its queue job ended instead of waiting to run again.
    await app.services.database.sql`update jobs set status = 'QUEUED' where id = ${jobId}`;
    await app.services.boss.cancel(processingQueue('hangs'), queueJobId);
    await waitFor('the attempt to stop its stage', async () => !pids.some(isRunning), 20_000);
    await app.services.database.sql`update jobs set updated_at = now() - interval '2 minutes' where id = ${jobId}`;
    await app.services.database.sql`
      update ${app.services.database.sql(PGBOSS_SCHEMA)}.job set completed_on = now() - interval '2 minutes' where id = ${queueJobId}`;
    // Beside it, a job of a pipeline since removed from PIPELINES_FILE (its queue cannot be read): logged,
    // and it does not hold back the other.
    const retired = await submitHanging(app, user);
    await runningAttempt(app, retired, 1);
    await app.services.database.sql`update jobs set pipeline = 'retired', updated_at = now() - interval '2 minutes' where id = ${retired}`;
    const lines: Array<{ level: number; msg: string; jobId?: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    expect(await handOnStrandedJobs({ ...app.services, log })).toEqual([jobId]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        jobId: retired,
        msg: 'could not check or hand on a job that may be stranded; the next maintenance run tries again',
      }),
    );
    await app.services.database.sql`update jobs set pipeline = 'hangs' where id = ${retired}`;
    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: retired });
    const [row] = await app.services.database.sql`select queue_job_id from jobs where id = ${jobId}`;
    expect(row.queue_job_id).not.toBe(queueJobId);
    await runningAttempt(app, jobId, 2);
    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId });
  });
});
