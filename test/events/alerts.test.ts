// Operator alerts: raised on timeouts, failures and jobs stuck in QUEUED (and by the webhooks domain
// when a circuit opens), pushed to admin subscribers, listed by the alerts query, and POSTed, signed
// and retried, to ADMIN_ALERT_WEBHOOK_URL without ever holding up a job.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../../src/alerts/alerts';
import { alertDeliveryJobId } from '../../src/alerts/alert-webhook';
import { ALERT_SCAN_CRON } from '../../src/alerts/worker';
import { QUEUES } from '../../src/queue/queues';
import { generateWebhookSecret, verifyWebhook } from '../../src/webhooks/signing';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql, wsClient } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitFor, waitForEvent, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import { ALERTS_SUBSCRIPTION, follow, type Followed, JOB_UPDATED, makeSwitchableFfmpeg, type SwitchableFfmpeg } from './helpers';

let mediaDir: string;
let clip: string;
let app: TestApp;
let admin: TestUser;
let user: TestUser;
let ffmpeg: SwitchableFfmpeg;
let receiver: Receiver;
let adminStream: Followed;
const secret = generateWebhookSecret();
const clients: Array<{ dispose(): unknown }> = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-alerts-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  ffmpeg = await makeSwitchableFfmpeg(mediaDir, { realFfmpeg: binaries.ffmpeg, when: 'mjpeg' });
  receiver = await startReceiver({ status: 204 });
  app = await startTestApp({
    env: {
      JOB_STAGES: 'probe,thumbnails',
      FFMPEG_PATH: ffmpeg.path,
      ADMIN_ALERT_WEBHOOK_URL: `${receiver.url}/ops/alerts`,
      ADMIN_ALERT_WEBHOOK_SECRET: secret,
      JOB_MAX_RETRIES: '1',
      JOB_RETRY_DELAY_SECONDS: '1',
      WORKER_CONCURRENCY: '1',
      QUEUED_ALERT_SECONDS: '600',
    },
  });
  admin = await app.createUser({ name: 'ops', admin: true });
  user = await app.createUser({ name: 'user', credits: 100 });
  adminStream = follow(client(admin.key), ALERTS_SUBSCRIPTION, undefined, 'alerts');
  // The stream is live once it shows an alert raised after it was opened.
  await waitFor(
    'the alerts stream to be live',
    async () => {
      const warmUp = await raiseAlert(app.services.database.db, {
        kind: 'WEBHOOK_CIRCUIT_OPEN',
        code: 'WEBHOOK_DELIVERY_FAILED',
        endpointId: 'whe_warmup',
        message: 'Test warm-up: webhook endpoint whe_warmup circuit open.',
        nextStep: 'None: a test alert.',
      });
      await new Promise((r) => setTimeout(r, 200));
      return adminStream.results.some((a) => a.id === warmUp.id);
    },
    10_000,
    0,
  );
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await app?.close();
  await receiver?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

function client(key: string) {
  const c = wsClient(app.url, key);
  clients.push(c);
  return c;
}

async function submit(input: Record<string, unknown> = {}, video?: { id: string }) {
  const v = video ?? (await seedVideo(app, user.id, clip));
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: v.id, model: 'FAST', ...input } });
  expect(res.body.data.submitJob.__typename).toBe('SubmitJobSuccess');
  return res.body.data.submitJob.job.id as string;
}

const ALERTS_QUERY = `query($first: Int, $after: String, $jobId: ID) {
  alerts(first: $first, after: $after, jobId: $jobId) {
    __typename
    ... on AlertConnection { nodes { id kind code message nextStep jobId createdAt delivery { state attempts } } pageInfo { hasNextPage endCursor } }
    ... on Error { code message detail }
  }
}`;

async function deliveriesOf(alertId: string) {
  return receiver.requests.filter((r) => r.headers['webhook-id'] === alertId);
}

describe('a job that times out', () => {
  it('raises JOB_TIMED_OUT: pushed to admins, listed, and POSTed signed to ADMIN_ALERT_WEBHOOK_URL; the user sees TIMED_OUT', async () => {
    await ffmpeg.set('hang');
    const jobId = await submit({ timeoutSeconds: 2 });
    const userStream = follow(client(user.key), JOB_UPDATED, { jobId }, 'jobUpdated');
    const alert = await adminStream.waitFor((a) => a.jobId === jobId, 30_000);
    await ffmpeg.set('normal');
    expect(alert).toMatchObject({ __typename: 'Alert', kind: 'JOB_TIMED_OUT', code: 'JOB_TIMEOUT', jobId, endpointId: null });
    expect(alert.message).toContain(jobId);
    expect(alert.message).toMatch(/timed out in stage 'thumbnails'/);
    expect(alert.nextStep).toContain(`retryJob(id: "${jobId}")`);
    expect((await userStream.done).at(-1)).toMatchObject({ type: 'TIMED_OUT', status: 'TIMED_OUT', error: { code: 'JOB_TIMEOUT' } });

    const [post] = await waitFor(
      'the alert POST',
      async () => {
        const found = await deliveriesOf(alert.id);
        return found.length ? found : null;
      },
      15_000,
    );
    expect(post.method).toBe('POST');
    expect(post.path).toBe('/ops/alerts');
    expect(verifyWebhook({ body: post.body, headers: post.headers, secrets: [secret] })).toBe(true);
    const body = JSON.parse(post.body);
    expect(body).toMatchObject({
      type: 'alert.raised',
      id: alert.id,
      data: { alert: { id: alert.id, kind: 'JOB_TIMED_OUT', code: 'JOB_TIMEOUT', jobId, nextStep: alert.nextStep } },
    });

    const listed = await gql(app.url, admin.key, ALERTS_QUERY, { jobId });
    expect(listed.body.data.alerts.nodes).toHaveLength(1);
    expect(listed.body.data.alerts.nodes[0]).toMatchObject({ id: alert.id, kind: 'JOB_TIMED_OUT' });
    await waitFor(
      'the delivery to be recorded as completed',
      async () => {
        const res = await gql(app.url, admin.key, ALERTS_QUERY, { jobId });
        return res.body.data.alerts.nodes[0].delivery?.state === 'completed';
      },
      10_000,
    );
  });
});

describe('a job that fails', () => {
  it('after its retries raises JOB_FAILED with the root cause’s code and retryJob as the next step', async () => {
    await ffmpeg.set('fail');
    const jobId = await submit();
    const job = await waitForStatus(app, jobId, ['FAILED', 'COMPLETED']);
    await ffmpeg.set('normal');
    expect(job.status).toBe('FAILED');
    expect(job.attempt).toBe(2);
    const alert = await adminStream.waitFor((a) => a.jobId === jobId, 15_000);
    expect(alert).toMatchObject({ kind: 'JOB_FAILED', code: job.error!.code, jobId });
    expect(alert.message).toMatch(/failed after 2 attempts in stage 'thumbnails'/);
    expect(alert.nextStep).toMatch(/retryJob/);
    await waitFor('the alert POST', async () => (await deliveriesOf(alert.id)).length > 0, 15_000);
  });

  it('permanently raises JOB_FAILED saying a retry would fail the same way, and a dead receiver does not hold the job up', async () => {
    receiver.setBehaviour({ hang: true });
    const video = await seedVideo(app, user.id, clip);
    await fs.writeFile(path.join(app.dataDir, video.storagePath), Buffer.alloc(4096, 7)); // damaged after upload
    const started = Date.now();
    const jobId = await submit({}, video);
    const job = await waitForStatus(app, jobId, ['FAILED', 'COMPLETED']);
    expect(job.error).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    expect(Date.now() - started).toBeLessThan(8_000);
    const alert = await adminStream.waitFor((a) => a.jobId === jobId, 15_000);
    expect(alert).toMatchObject({ kind: 'JOB_FAILED', code: 'VIDEO_CORRUPT' });
    expect(alert.message).toMatch(/failed permanently in stage 'probe'/);
    expect(alert.nextStep).toMatch(/unchanged/);
    // The POST is attempted (and hangs) in the background.
    await waitFor('the alert POST attempt', async () => (await deliveriesOf(alert.id)).length > 0, 15_000);
    receiver.setBehaviour({ status: 204 });
  });
});

describe('delivery to ADMIN_ALERT_WEBHOOK_URL', () => {
  it('is retried with backoff until the receiver accepts it (a webhook endpoint’s circuit, raised by the webhooks domain)', async () => {
    receiver.setBehaviour([{ status: 500 }, { status: 503 }, { status: 200 }]);
    const alert = await raiseAlert(app.services.database.db, {
      kind: 'WEBHOOK_CIRCUIT_OPEN',
      code: 'WEBHOOK_DELIVERY_FAILED',
      ownerId: user.id,
      endpointId: 'whe_test',
      message: 'Webhook endpoint whe_test (https://example.invalid/hook) failed 5 times in a row: its circuit is open.',
      nextStep: 'Check the receiver; deliveries resume after one probe succeeds.',
    });
    const pushed = await adminStream.waitFor((a) => a.id === alert.id, 10_000);
    expect(pushed).toMatchObject({ kind: 'WEBHOOK_CIRCUIT_OPEN', endpointId: 'whe_test', jobId: null });
    const posts = await waitFor(
      'three attempts',
      async () => {
        const found = await deliveriesOf(alert.id);
        return found.length >= 3 ? found : null;
      },
      30_000,
    );
    // The same alert each time, the delays growing (2 s, then 4 s).
    expect(new Set(posts.map((p) => p.body)).size).toBe(1);
    const gaps = posts.slice(1).map((p, i) => p.receivedAt.getTime() - posts[i].receivedAt.getTime());
    expect(gaps[0]).toBeGreaterThanOrEqual(1_500);
    expect(gaps[1]).toBeGreaterThanOrEqual(3_500);
    await waitFor(
      'the delivery to complete',
      async () => (await app.services.boss.getJobById(QUEUES.alertDelivery, alertDeliveryJobId(alert.id)))?.state === 'completed',
      10_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await deliveriesOf(alert.id)).toHaveLength(3);
    receiver.setBehaviour({ status: 204 });
  });
});

describe('a job stuck in QUEUED', () => {
  it('raises one JOB_STUCK_QUEUED alert once it waited longer than QUEUED_ALERT_SECONDS, however often the scan runs', async () => {
    const schedules = await app.services.boss.getSchedules();
    expect(schedules.find((s) => s.name === QUEUES.alertScan)?.cron).toBe(ALERT_SCAN_CRON);

    // The only worker slot is busy with a job that hangs: the next one waits.
    await ffmpeg.set('hang');
    const busy = await submit();
    await waitForEvent(app, busy, (e) => e.type === 'STAGE_STARTED' && e.stage === 'thumbnails');
    const waiting = await submit();
    const scan = async () => {
      const id = await app.services.boss.send(QUEUES.alertScan, {});
      await waitFor('the scan to run', async () => (await app.services.boss.getJobById(QUEUES.alertScan, id!))?.state === 'completed', 15_000);
    };
    const stuckAlerts = async () => (await app.services.database.sql`select id from alerts where job_id = ${waiting} and kind = 'JOB_STUCK_QUEUED'`).length;

    await scan();
    expect(await stuckAlerts()).toBe(0); // queued for a moment only

    // As if it had been waiting for two hours.
    await app.services.database.sql`update jobs set created_at = now() - interval '2 hours', updated_at = now() - interval '2 hours' where id = ${waiting}`;
    await scan();
    const alert = await adminStream.waitFor((a) => a.jobId === waiting, 10_000);
    expect(alert).toMatchObject({ kind: 'JOB_STUCK_QUEUED', code: 'SERVICE_UNAVAILABLE' });
    expect(alert.message).toMatch(/waited in QUEUED for 1[12]\d min/);
    expect(alert.nextStep).toMatch(/worker/);
    await waitFor('the alert POST', async () => (await deliveriesOf(alert.id)).length > 0, 15_000);

    await scan();
    await scan();
    expect(await stuckAlerts()).toBe(1);

    // Freeing the worker lets the waiting job run.
    await ffmpeg.set('normal');
    const cancel = await gql(app.url, user.key, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: busy });
    expect(cancel.body.data.cancelJob.__typename).toBe('CancelJobSuccess');
    expect((await waitForStatus(app, waiting, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
    // Neither a cancelled nor a completed job is an alert.
    expect((await app.services.database.sql`select id from alerts where job_id = ${busy}`).length).toBe(0);
  });
});

describe('who may see alerts', () => {
  it('refuses a non-admin: the subscription yields one ForbiddenError and completes, the query answers ForbiddenError', async () => {
    const refused = await follow(client(user.key), ALERTS_SUBSCRIPTION, undefined, 'alerts').done;
    expect(refused).toEqual([
      {
        __typename: 'ForbiddenError',
        code: 'FORBIDDEN',
        message: 'You do not have permission to perform this action.',
        detail: 'Only an admin may subscribe to alerts.',
      },
    ]);
    const res = await gql(app.url, user.key, ALERTS_QUERY, {});
    expect(res.body.data.alerts).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });

  it('pages the history newest first for an admin', async () => {
    const all = (await gql(app.url, admin.key, ALERTS_QUERY, { first: 100 })).body.data.alerts.nodes;
    expect(all.length).toBeGreaterThanOrEqual(5);
    const times = all.map((a: { createdAt: string }) => Date.parse(a.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const first = (await gql(app.url, admin.key, ALERTS_QUERY, { first: 2 })).body.data.alerts;
    expect(first.nodes.map((a: { id: string }) => a.id)).toEqual(all.slice(0, 2).map((a: { id: string }) => a.id));
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await gql(app.url, admin.key, ALERTS_QUERY, { first: 2, after: first.pageInfo.endCursor })).body.data.alerts;
    expect(second.nodes.map((a: { id: string }) => a.id)).toEqual(all.slice(2, 4).map((a: { id: string }) => a.id));
    // Everything the admin stream saw is in the history.
    for (const pushed of adminStream.results) expect(all.some((a: { id: string }) => a.id === pushed.id)).toBe(true);
  });
});
