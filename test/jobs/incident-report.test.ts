// Job.incidentReport and `npx vidq jobs report`: seed 002's escalation template filled from the job,
// for a completed, a failed, a timed-out and a running job.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../src/db/schema/index';
import { incidentReport } from '../../src/jobs/incident-report';
import { recordProgress } from '../../src/jobs/transitions';
import { publicDeliveryId } from '../../src/webhooks/delivery-id';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, waitFor, waitForEvent, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const PIPELINES_FILE = path.join(ROOT, 'test/pipeline/fixtures/stages/pipelines.json');
let app: TestApp;
let user: TestUser;
let dir: string;
let clip: string;
let receiver: Receiver;

async function submit(pipeline: string, extra: Record<string, unknown> = {}) {
  const video = await seedVideo(app, user.id, clip);
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}`, 'x-request-id': `req-${pipeline}-${Date.now()}` },
    body: JSON.stringify({
      query: 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { ... on SubmitJobSuccess { job { id } } ... on Error { code message } } }',
      variables: { input: { videoId: video.id, pipeline, model: 'FAST', ...extra } },
    }),
  });
  return { jobId: (await res.json()).data.submitJob.job.id as string, requestId: res.headers.get('x-request-id')! };
}

const reportOf = async (jobId: string) =>
  (await gql(app.url, user.key, 'query($id: ID!) { job(id: $id) { ... on Job { incidentReport } } }', { id: jobId })).body.data.job.incidentReport;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-incident-'));
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({ env: { PIPELINES_FILE, JOB_STAGES: 'probe' } });
  user = await app.createUser({ credits: 1000 });
  clip = await makeVideo(dir, { format: 'mp4', seconds: 2, width: 640, height: 360, name: 'clip' });
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the incident report', () => {
  it('of a failed job: the code, its HTTP status, the stage, the request id and the source', async () => {
    const { jobId, requestId } = await submit('exits', { stageOptions: { exitwith: { code: 65 } }, webhookUrl: `${receiver.url}/hook` });
    const job = await waitForStatus(app, jobId, ['FAILED']);
    await receiver.waitFor(1, 15_000);
    await waitFor(
      'the delivery',
      async () => (await app.services.database.sql`select 1 from webhook_deliveries where job_id = ${jobId} and status = 'DELIVERED'`).length > 0,
    );
    const report = await reportOf(jobId);
    expect(report).toMatchObject({
      incident_time: job.finishedAt!.toISOString(),
      job_id: jobId,
      model: 'FAST',
      output_format: 'MP4',
      symptom: 'failed with code VIDEO_CORRUPT at stage exitwith',
      http_status: 422,
      error_code: 'VIDEO_CORRUPT',
      request_id: requestId,
      source_video_meta: { duration_s: 2, resolution: '640x360', codec: 'h264' },
      pipeline: 'exits',
      attempts: { made: 1, max: job.maxAttempts },
    });
    expect(report.stages).toEqual([
      expect.objectContaining({ name: 'exitwith', status: 'FAILED', attempts: 1, error: expect.objectContaining({ code: 'VIDEO_CORRUPT' }) }),
    ]);
    expect(report.events.map((e: { type: string }) => e.type)).toEqual(['QUEUED', 'STARTED', 'STAGE_STARTED', 'FAILED']);
    const [delivery] = await app.services.database.sql<{ id: string }[]>`select id from webhook_deliveries where job_id = ${jobId}`;
    expect(report.webhook_deliveries).toEqual([
      expect.objectContaining({
        id: publicDeliveryId(delivery.id),
        event_type: 'job.failed',
        url: receiver.url,
        status: 'DELIVERED',
        attempts: 1,
        last_status_code: 200,
        last_error: null,
      }),
    ]);
  });

  it('names each webhook delivery by its whd_ id and its URL by its origin only, with why its last attempt failed', async () => {
    const failing = await startReceiver({ status: 503 });
    try {
      const { jobId } = await submit('exits', {
        stageOptions: { exitwith: { code: 65 } },
        webhookUrl: `${failing.url}/hooks/pathtoken8e1?token=querytoken2c7`,
      });
      await waitForStatus(app, jobId, ['FAILED']);
      // The first attempt failed; the delivery waits for its retry.
      const [row] = await waitFor('a failed attempt', async () => {
        const rows = await app.services.database.sql<{ id: string }[]>`select id from webhook_deliveries where job_id = ${jobId} and attempts >= 1`;
        return rows.length ? rows : null;
      });
      const report = await reportOf(jobId);
      expect(report.webhook_deliveries).toEqual([
        expect.objectContaining({
          id: publicDeliveryId(row.id),
          url: failing.url,
          status: 'PENDING',
          attempts: 1,
          last_status_code: 503,
          last_error: 'HTTP 503',
        }),
      ]);
      expect(JSON.stringify(report)).not.toMatch(/pathtoken8e1|querytoken2c7/);
    } finally {
      await failing.close();
    }
  });

  it('lists the first and the last PROGRESS event of each run and counts the ones left out', async () => {
    const { jobId } = await submit('hangs');
    // The stage's own report (0.1) comes first; then many more, as a long transcode writes them.
    await waitForEvent(app, jobId, (e) => e.type === 'PROGRESS');
    const [job] = await app.services.database.db.select().from(jobs).where(eq(jobs.id, jobId));
    for (let i = 1; i <= 200; i++) await recordProgress(app.services.database.db, job, 'hang', 0.1 + i * 0.004, 0.1 + i * 0.004);
    const [{ total, progress }] = await app.services.database.sql<{ total: number; progress: number }[]>`
      select count(*)::int as total, (count(*) filter (where type = 'PROGRESS'))::int as progress from job_events where job_id = ${jobId}`;
    expect(progress).toBeGreaterThanOrEqual(201);

    const report = await reportOf(jobId);
    expect(report.events.map((e: { type: string }) => e.type)).toEqual(['QUEUED', 'STARTED', 'STAGE_STARTED', 'PROGRESS', 'PROGRESS']);
    const [first, last] = report.events.slice(3);
    expect(first).toMatchObject({ stage: 'hang', stage_progress: 0.1 });
    expect(first).not.toHaveProperty('progress_events_omitted');
    expect(last).toMatchObject({
      stage: 'hang',
      progress: expect.closeTo(0.9, 5),
      stage_progress: expect.closeTo(0.9, 5),
      progress_events_omitted: progress - 2,
    });
    expect(report.events_summary).toMatchObject({ total, listed: 5, progress_events_omitted: progress - 2, note: expect.stringMatching(/first and the last/) });

    // A run ends at the next other event: after the cancellation, that event is listed in its place.
    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId });
    await waitForStatus(app, jobId, ['CANCELLED']);
    const ended = await reportOf(jobId);
    expect(ended.events.map((e: { type: string }) => e.type)).toEqual(['QUEUED', 'STARTED', 'STAGE_STARTED', 'PROGRESS', 'PROGRESS', 'CANCELLED']);
  });

  it('of a timed-out job says so; of a completed one that there is no incident', async () => {
    const slow = await submit('slow');
    await waitForStatus(app, slow.jobId, ['TIMED_OUT'], 20_000);
    expect(await reportOf(slow.jobId)).toMatchObject({ symptom: expect.stringMatching(/^timeout: /), error_code: 'JOB_TIMEOUT', http_status: 504 });

    const ok = await submit('default');
    await waitForStatus(app, ok.jobId, ['COMPLETED']);
    expect(await reportOf(ok.jobId)).toMatchObject({ symptom: 'completed (no incident)', error_code: null, http_status: 200, request_id: ok.requestId });
  });

  it('of a queued job counts its wait from when it went (back) to the queue, not from its submission', async () => {
    const { jobId } = await submit('default');
    const done = await waitForStatus(app, jobId, ['COMPLETED']);
    // As after a hand-over an hour after its submission: back in the queue 20 s ago.
    const now = Date.now();
    const requeued = { ...done, status: 'QUEUED' as const, createdAt: new Date(now - 3600_000), startedAt: null, updatedAt: new Date(now - 20_000) };
    expect((await incidentReport(app.services.database.db, requeued, now)).symptom).toBe('queued for 20 s');
    expect((await incidentReport(app.services.database.db, requeued, now + 3600_000)).symptom).toMatch(/^slow: queued for 3620 s without a worker taking it$/);
  });

  it('of a job still running long after its expected duration calls it slow', async () => {
    const { jobId } = await submit('hangs');
    const [job] = await waitFor('it to run', async () => {
      const rows = await app.services.database.db.select().from(jobs).where(eq(jobs.id, jobId));
      return rows[0]?.status === 'PROCESSING' ? rows : null;
    });
    expect((await incidentReport(app.services.database.db, job)).symptom).toMatch(/^processing for \d+ s$/);
    const later = await incidentReport(app.services.database.db, job, Date.now() + 10 * 60_000);
    expect(later.symptom).toMatch(/^slow: still processing after \d+ s \(expected about 62 s\)$/);
    expect(later.incident_time).toBe(job.startedAt!.toISOString());
    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId });
  });

  it('is printed by `npx vidq jobs report JOB_ID`', async () => {
    // The first failed job: its delivery is done, so its report does not change between the two reads.
    const [row] = await app.services.database.sql`select id from jobs where pipeline = 'exits' order by created_at limit 1`;
    const { stdout } = await run(process.execPath, ['bin/vidq.js', 'jobs', 'report', row.id], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: app.database.url, DATA_DIR: app.dataDir },
    });
    expect(JSON.parse(stdout)).toEqual(await reportOf(row.id));
    const missing = await run(process.execPath, ['bin/vidq.js', 'jobs', 'report', 'job_nosuchjob'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: app.database.url, DATA_DIR: app.dataDir },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 1, stderr: "No job with id 'job_nosuchjob'.\n" });
  });
});
