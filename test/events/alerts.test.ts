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
import { newId } from '../../src/db/ids';
import { webhookEndpoints } from '../../src/db/schema/index';
import { metrics } from '../../src/metrics/index';
import { QUEUES } from '../../src/queue/queues';
import { recordCircuitResult } from '../../src/webhooks/circuit-store';
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
// Like a Slack or Teams incoming webhook: the token is in the path (and here in the query too).
const ADMIN_HOOK_PATH = '/ops/alerts/T0/B0/adminpathtoken7c1?token=adminquerytoken9d2';
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
      ADMIN_ALERT_WEBHOOK_URL: `${receiver.url}${ADMIN_HOOK_PATH}`,
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
    // Thumbnails hang (their ffmpeg never ends); the deadline leaves the probe before them time enough
    // on a loaded machine, so it is always in thumbnails that the job times out.
    await ffmpeg.set('hang');
    const jobId = await submit({ timeoutSeconds: 10 });
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
    expect(post.path).toBe(ADMIN_HOOK_PATH);
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
    const jobId = await submit({}, video);
    const job = await waitForStatus(app, jobId, ['FAILED', 'COMPLETED']);
    const failedSeenAt = Date.now();
    expect(job.error).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    const alert = await adminStream.waitFor((a) => a.jobId === jobId, 15_000);
    expect(alert).toMatchObject({ kind: 'JOB_FAILED', code: 'VIDEO_CORRUPT' });
    expect(alert.message).toMatch(/failed permanently in stage 'probe'/);
    expect(alert.nextStep).toMatch(/unchanged/);
    // The POST is attempted (and hangs) in the background: the job was FAILED before that POST could
    // have timed out (10 s), so it did not wait for the receiver.
    const [post] = await waitFor(
      'the alert POST attempt',
      async () => {
        const found = await deliveriesOf(alert.id);
        return found.length ? found : null;
      },
      15_000,
    );
    expect(failedSeenAt).toBeLessThan(post.receivedAt.getTime() + 10_000);
    receiver.setBehaviour({ status: 204 });
  });
});

describe('delivery to ADMIN_ALERT_WEBHOOK_URL', () => {
  it('is retried with backoff until the receiver accepts it (a webhook endpoint’s circuit, raised by the webhooks domain)', async () => {
    // Scripted per alert (webhook-id): a POST of an earlier test's alert still being retried (the one
    // left hanging above comes back after its 10 s timeout) must not take one of these answers.
    const script = [{ status: 500 }, { status: 503 }, { status: 200 }];
    const answered = new Map<unknown, number>();
    receiver.setBehaviour((req) => {
      const n = answered.get(req.headers['webhook-id']) ?? 0;
      answered.set(req.headers['webhook-id'], n + 1);
      return script[Math.min(n, script.length - 1)]!;
    });
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

describe('an alert whose delivery to ADMIN_ALERT_WEBHOOK_URL is given up', () => {
  it('is counted in vidq_alert_deliveries_total{result="FAILED"} on the queue’s last try, not before', async () => {
    const failedCount = async () => (await metrics.alertDeliveries.get()).values.find((v) => v.labels.result === 'FAILED')?.value ?? 0;
    const before = await failedCount();
    let alertId = '';
    receiver.setBehaviour((req) => (req.headers['webhook-id'] === alertId ? { status: 500 } : { status: 204 }));
    try {
      const alert = await raiseAlert(app.services.database.db, {
        kind: 'WEBHOOK_ENDPOINT_DISABLED',
        code: 'WEBHOOK_DELIVERY_FAILED',
        ownerId: admin.id,
        message: 'A test alert whose POST always fails.',
        nextStep: 'Nothing: it is a test.',
      });
      alertId = alert.id;
      const jobId = alertDeliveryJobId(alert.id);
      const state = async () => (await app.services.boss.getJobById(QUEUES.alertDelivery, jobId))?.state;
      // A failure with retries left is not counted.
      await waitFor('the first failure, to be retried', async () => (await state()) === 'retry', 30_000);
      expect(await failedCount()).toBe(before);
      // Its next try is made the last one.
      await app.services.database.sql`update pgboss.job set retry_limit = 0 where name = ${QUEUES.alertDelivery} and id = ${jobId}`;
      await waitFor('the delivery to be given up', async () => (await state()) === 'failed', 30_000);
      expect(await failedCount()).toBe(before + 1);
    } finally {
      receiver.setBehaviour({ status: 204 });
    }
  });
});

describe('webhook URLs carrying a token', () => {
  const ALERT_BY_ID = `query { alerts(first: 50) { ... on AlertConnection { nodes { id message nextStep endpointId data delivery { state lastError } } } } }`;
  const alertNode = async (id: string) =>
    (await gql(app.url, admin.key, ALERT_BY_ID)).body.data.alerts.nodes.find((a: { id: string }) => a.id === id) as
      | {
          message: string;
          nextStep: string;
          endpointId: string | null;
          data: Record<string, unknown>;
          delivery: { state: string; lastError: string | null } | null;
        }
      | undefined;

  it('are named by their origin only: in the alert, its POST, and the delivery error that ADMIN_ALERT_WEBHOOK_URL caused', async () => {
    const TOKENS = ['adminpathtoken7c1', 'adminquerytoken9d2', 'endpointpathtoken3e4', 'endpointquerytoken5f6', 'jobpathtoken1a2', 'jobquerytoken3b4'];
    const [endpoint] = await app.services.database.db
      .insert(webhookEndpoints)
      .values({
        id: newId('whe'),
        ownerId: user.id,
        url: 'https://hooks.example.com/services/endpointpathtoken3e4?token=endpointquerytoken5f6',
        events: ['job.cancelled'],
        secret: generateWebhookSecret(),
      })
      .returning();
    const jobUrl = 'https://jobs.example.net/hook/jobpathtoken1a2?sig=jobquerytoken3b4';
    // The admin receiver refuses, so that each delivery records an error.
    receiver.setBehaviour({ status: 500 });
    // One failure opens each circuit: the webhooks domain raises its alert in the caller's transaction.
    // One transaction each: paging cursors keep milliseconds only, so two alerts sharing one now() would
    // trip the paging test below (src/db/pagination.ts).
    const ctx = { options: { failureThreshold: 1, cooldownSeconds: 60 }, timeoutMs: 1000 };
    await app.services.database.db.transaction((tx) => recordCircuitResult(tx, { kind: 'endpoint', endpointId: endpoint.id }, false, ctx));
    await app.services.database.db.transaction((tx) => recordCircuitResult(tx, { kind: 'url', ownerId: user.id, url: jobUrl }, false, ctx));
    const [forEndpoint] = await app.services.database.sql<{ id: string }[]>`select id from alerts where endpoint_id = ${endpoint.id}`;
    const [forUrl] = await app.services.database.sql<{ id: string }[]>`
      select id from alerts where owner_id = ${user.id} and kind = 'WEBHOOK_CIRCUIT_OPEN' and endpoint_id is null`;

    for (const [alertId, origin] of [
      [forEndpoint.id, 'https://hooks.example.com'],
      [forUrl.id, 'https://jobs.example.net'],
    ]) {
      const failed = await waitFor(
        'a failed delivery to ADMIN_ALERT_WEBHOOK_URL',
        async () => {
          const node = await alertNode(alertId);
          return node?.delivery?.lastError ? node : null;
        },
        15_000,
      );
      // Enough for an admin to find it: the origin, the endpoint or owner.
      expect(failed.message).toContain(origin);
      expect(failed.data).toMatchObject({ urlOrigin: origin, ownerId: user.id });
      expect(failed.message).toContain(alertId === forEndpoint.id ? endpoint.id : user.id);
      expect(failed.delivery!.lastError).toBe(`alert ${alertId} to ${receiver.url}: HTTP 500`);
      const posts = await deliveriesOf(alertId);
      expect(posts.length).toBeGreaterThan(0);
      const job = await app.services.boss.getJobById(QUEUES.alertDelivery, alertDeliveryJobId(alertId));
      const everything = JSON.stringify([failed, posts.map((p) => p.body), job?.output]);
      for (const token of TOKENS) expect(everything).not.toContain(token);
    }
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
