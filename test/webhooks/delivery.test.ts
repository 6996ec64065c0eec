// Webhook delivery against a real local receiver: payload and signature, retries and their delays,
// giving up, timeouts, 410, Retry-After, redirects and secret rotation.
import { storedDeliveryId } from '../../src/webhooks/delivery-id';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { jobEvents, jobs, webhookEndpoints } from '../../src/db/schema/index';
import { deliverySettings } from '../../src/webhooks/delivery-run';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import {
  attemptLog,
  createEndpoint,
  DELIVERY_FIELDS,
  deliveryRow,
  emitTerminalEvent,
  signatureValid,
  verified,
  viewerSecret,
  waitForDelivery,
} from './helpers';

let app: TestApp;
let mediaDir: string;
let clip: string;
const receivers: Receiver[] = [];

const RETRY_BASE_SECONDS = 0.5;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  app = await startTestApp({
    env: { JOB_STAGES: 'probe', WEBHOOK_RETRY_BASE_SECONDS: String(RETRY_BASE_SECONDS), WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '100' },
  });
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function runJob(user: TestUser, webhookUrl: string) {
  const video = await seedVideo(app, user.id, clip);
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST', webhookUrl } });
  const jobId: string = res.body.data.submitJob.job.id;
  const job = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
  expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
  return { video, job };
}

const JOB_DELIVERIES = `query ($id: ID!) { job(id: $id) { ... on Job { status error { code } webhookDeliveries { ${DELIVERY_FIELDS} } } } }`;

describe('a job that finishes', () => {
  it('sends its webhookUrl a Standard Webhooks request that the standardwebhooks package verifies, with the documented payload', async () => {
    const hook = await receiver({ status: 200 });
    const user = await app.createUser({ credits: 10 });
    const { video, job } = await runJob(user, `${hook.url}/hooks/vidq`);
    const [req] = await hook.waitFor(1, 20_000);

    const secret = await viewerSecret(app, user);
    expect(secret).toMatch(/^whsec_/);
    const payload = verified(secret, req) as Record<string, any>;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/vidq');
    expect(req.headers['content-type']).toBe('application/json');
    const [terminal] = await app.services.database.db
      .select()
      .from(jobEvents)
      .where(eq(jobEvents.jobId, job.id))
      .then((rows) => rows.filter((e) => e.type === 'COMPLETED'));
    expect(payload).toMatchObject({
      type: 'job.completed',
      id: expect.stringMatching(/^evt_/),
      createdAt: terminal.at.toISOString(),
      data: { job: { id: job.id, status: 'COMPLETED', videoId: video.id, error: null } },
    });
    expect(req.headers['webhook-id']).toBe(payload.id);
    expect(Math.abs(Number(req.headers['webhook-timestamp']) - req.receivedAt.getTime() / 1000)).toBeLessThanOrEqual(2);
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);

    await waitFor200(job.id);
    const res = await gql(app.url, user.key, JOB_DELIVERIES, { id: job.id });
    const [delivery] = res.body.data.job.webhookDeliveries;
    expect(delivery).toMatchObject({
      eventId: payload.id,
      eventType: 'job.completed',
      url: `${hook.url}/hooks/vidq`,
      endpointId: null,
      jobId: job.id,
      isTest: false,
      status: 'DELIVERED',
      attempts: 1,
      lastStatusCode: 200,
      errorCode: null,
      nextAttemptAt: null,
      attemptsLog: [{ number: 1, statusCode: 200, error: null }],
    });
    expect(delivery.deliveredAt).not.toBeNull();
    // Its id is prefixed like every other vidq id; the bare UUID earlier versions answered still finds it.
    expect(delivery.id).toMatch(/^whd_[0-9a-f]{32}$/);
    const stored = storedDeliveryId(delivery.id)!;
    for (const id of [delivery.id, stored]) {
      const found = await gql(app.url, user.key, `query($id: ID!) { webhookDelivery(id: $id) { __typename ... on WebhookDelivery { id } } }`, { id });
      expect(found.body.data.webhookDelivery).toEqual({ __typename: 'WebhookDelivery', id: delivery.id });
    }
    // The delivery's queue job was created with it, under its (stored) id.
    const [queued] = await app.services.database.sql`select name from pgboss.job where id = ${stored}`;
    expect(queued.name).toBe('webhook-delivery');
  });

  it('sends every enabled endpoint subscribed to the event type, each signed with its own secret, and no other', async () => {
    const hook = await receiver({ status: 204 });
    const user = await app.createUser();
    const all = await createEndpoint(app, user, `${hook.url}/all`);
    const failedOnly = await createEndpoint(app, user, `${hook.url}/failed-only`, { events: ['job.failed'] });
    const disabled = await createEndpoint(app, user, `${hook.url}/disabled`);
    await gql(app.url, user.key, 'mutation ($id: ID!) { disableWebhookEndpoint(id: $id) { __typename } }', { id: disabled.id });
    const stranger = await app.createUser();
    await createEndpoint(app, stranger, `${hook.url}/stranger`);

    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/job`, status: 'COMPLETED' });
    expect(deliveries.map((d) => d.url).sort()).toEqual([`${hook.url}/all`, `${hook.url}/job`]);
    for (const d of deliveries) await waitForDelivery(app, d.id);
    const byPath = Object.fromEntries(hook.requests.map((r) => [r.path, r]));
    expect(Object.keys(byPath).sort()).toEqual(['/all', '/job']);
    expect(signatureValid(all.secret, byPath['/all'])).toBe(true);
    expect(signatureValid(await viewerSecret(app, user), byPath['/all'])).toBe(false);
    expect(signatureValid(await viewerSecret(app, user), byPath['/job'])).toBe(true);
    // One event, two targets: the same webhook-id and body to both.
    expect(byPath['/all'].headers['webhook-id']).toBe(byPath['/job'].headers['webhook-id']);
    expect(byPath['/all'].body).toBe(byPath['/job'].body);

    const failed = await emitTerminalEvent(app, user.id, { status: 'FAILED' });
    expect(failed.deliveries.map((d) => d.endpointId).sort()).toEqual([all.id, failedOnly.id].sort());
    for (const d of failed.deliveries) expect((await waitForDelivery(app, d.id)).status).toBe('DELIVERED');
    expect(JSON.parse(hook.requests.at(-1)!.body).type).toBe('job.failed');
  });
});

async function waitFor200(jobId: string) {
  const [d] = await app.services.database.sql`select id from webhook_deliveries where job_id = ${jobId}`;
  return waitForDelivery(app, d.id);
}

describe('a delivery that fails', () => {
  it('is retried after two 500s with growing delays, the same webhook-id and body, and a fresh timestamp and signature each time', async () => {
    const hook = await receiver([{ status: 500, body: 'down' }, { status: 500 }, { status: 200 }]);
    const user = await app.createUser();
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: hook.url });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 3, lastStatusCode: 200, errorCode: null });

    const reqs = hook.requests;
    expect(reqs).toHaveLength(3);
    const secret = await viewerSecret(app, user);
    for (const r of reqs) {
      expect(signatureValid(secret, r)).toBe(true);
      expect(r.headers['webhook-id']).toBe(row.eventId);
      expect(r.body).toBe(row.body);
      // Signed when sent, not when the event happened: in the second it was received or the one before
      // (the timestamp is floored to the second, so both sides are).
      const signedToReceived = Math.floor(r.receivedAt.getTime() / 1000) - Number(r.headers['webhook-timestamp']);
      expect(signedToReceived).toBeGreaterThanOrEqual(0);
      expect(signedToReceived).toBeLessThanOrEqual(1);
    }
    const gaps = [reqs[1].receivedAt.getTime() - reqs[0].receivedAt.getTime(), reqs[2].receivedAt.getTime() - reqs[1].receivedAt.getTime()];
    expect(gaps[0]).toBeGreaterThanOrEqual(RETRY_BASE_SECONDS * 1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * RETRY_BASE_SECONDS * 1000);
    expect(Number(reqs[2].headers['webhook-timestamp'])).toBeGreaterThan(Number(reqs[0].headers['webhook-timestamp']));
    expect(new Set(reqs.map((r) => r.headers['webhook-signature'])).size).toBe(3);

    const log = await attemptLog(app, row.id);
    expect(log.map((a) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 500, 'HTTP 500'],
      [3, 200, null],
    ]);
    expect(log[0].responseSnippet).toBe('down');
  });

  it('is given up after 3 retries: FAILED with WEBHOOK_DELIVERY_FAILED and 4 attempts logged, while the job stays as it was', async () => {
    const hook = await receiver({ status: 500 });
    const user = await app.createUser({ credits: 10 });
    const { job } = await runJob(user, hook.url);
    const [{ id }] = await app.services.database.sql`select id from webhook_deliveries where job_id = ${job.id}`;
    const row = await waitForDelivery(app, id, ['DELIVERED', 'FAILED'], 30_000);
    expect(row).toMatchObject({ status: 'FAILED', errorCode: 'WEBHOOK_DELIVERY_FAILED', attempts: 4, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(hook.requests).toHaveLength(4);

    const res = await gql(app.url, user.key, JOB_DELIVERIES, { id: job.id });
    expect(res.body.data.job).toMatchObject({ status: 'COMPLETED', error: null });
    const [delivery] = res.body.data.job.webhookDeliveries;
    expect(delivery).toMatchObject({ status: 'FAILED', errorCode: 'WEBHOOK_DELIVERY_FAILED', attempts: 4, deliveredAt: null });
    expect(delivery.attemptsLog.map((a: any) => [a.number, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 500],
    ]);

    const [after] = await app.services.database.db.select().from(jobs).where(eq(jobs.id, job.id));
    expect(after).toEqual(job);
    const events = await app.services.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, job.id));
    expect(events.at(-1)!.type).toBe('COMPLETED');
    expect(events).toHaveLength(job.lastSequence);
  });

  it('counts an answer slower than the timeout as a failed attempt', async () => {
    const hook = await receiver([{ hang: true }, { status: 200 }]);
    const user = await app.createUser();
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: hook.url });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    const log = await attemptLog(app, row.id);
    expect(log[0]).toMatchObject({ attempt: 1, statusCode: null, error: 'timeout after 1000 ms' });
    // Node's timers count from the event loop's cached clock, which can trail performance.now() by a
    // millisecond: a 1000 ms timeout may be measured at 999 ms.
    expect(log[0].latencyMs).toBeGreaterThanOrEqual(995);
    expect(log[1]).toMatchObject({ attempt: 2, statusCode: 200 });
  });

  it('has a default timeout of 10 seconds and 3 retries', () => {
    const settings = deliverySettings(loadConfig({}));
    expect(settings.timeoutMs).toBe(10_000);
    expect(settings.maxRetries).toBe(3);
    expect(loadConfig({ WEBHOOK_TIMEOUT_MS: '2500' }).webhookTimeoutMs).toBe(2500);
  });

  it.each([429, 503])('waits at least as long as Retry-After says after a %i', async (status) => {
    const hook = await receiver([{ status, headers: { 'Retry-After': '2' } }, { status: 200 }]);
    const user = await app.createUser();
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: hook.url });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    const [first, second] = hook.requests;
    expect(second.receivedAt.getTime() - first.receivedAt.getTime()).toBeGreaterThanOrEqual(2000);
    expect((await attemptLog(app, row.id))[0]).toMatchObject({ statusCode: status });
  });

  it('does not follow a redirect: the attempt fails and the Location is never requested', async () => {
    const hook = await receiver((req, i) => (i === 0 ? { status: 302, headers: { Location: `${hook.url}/elsewhere` } } : { status: 200 }));
    const user = await app.createUser();
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/hook` });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect(hook.requests.map((r) => r.path)).toEqual(['/hook', '/hook']);
    const [first] = await attemptLog(app, row.id);
    expect(first.statusCode).toBe(302);
    expect(first.error).toMatch(/redirect to .*\/elsewhere not followed/);
  });

  it('answered with 410 Gone fails at once and disables the endpoint, which later events skip', async () => {
    const hook = await receiver({ status: 410 });
    const user = await app.createUser();
    // A URL that carries a token, as chat and automation receivers' do: the alert names its origin only.
    const endpoint = await createEndpoint(app, user, `${hook.url}/services/T0/B0/path-secret?token=query-secret`);
    const { deliveries } = await emitTerminalEvent(app, user.id);
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'FAILED', errorCode: 'WEBHOOK_DELIVERY_FAILED', attempts: 1, lastStatusCode: 410 });

    const res = await gql(app.url, user.key, 'query ($id: ID!) { webhookEndpoint(id: $id) { ... on WebhookEndpoint { enabled disabledReason } } }', {
      id: endpoint.id,
    });
    expect(res.body.data.webhookEndpoint.enabled).toBe(false);
    expect(res.body.data.webhookEndpoint.disabledReason).toMatch(/410 Gone/);
    // Operators are told once, with what to do next.
    const raised = await app.services.database.sql`select kind, code, owner_id, message, next_step, data from alerts where endpoint_id = ${endpoint.id}`;
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ kind: 'WEBHOOK_ENDPOINT_DISABLED', code: 'WEBHOOK_DELIVERY_FAILED', owner_id: user.id });
    expect(raised[0].message).toContain(`(${new URL(hook.url).origin})`);
    expect(raised[0].message).toContain(`delivery whd_`);
    expect(JSON.stringify(raised[0])).not.toMatch(/path-secret|query-secret/);
    expect(raised[0].next_step).toMatch(/enableWebhookEndpoint.*redeliverWebhook/);
    const later = await emitTerminalEvent(app, user.id);
    expect(later.deliveries).toEqual([]);
    expect(hook.requests).toHaveLength(1);

    // A job's own webhookUrl has nothing to disable: the delivery just ends.
    const own = await emitTerminalEvent(app, user.id, { webhookUrl: hook.url });
    expect(await waitForDelivery(app, own.deliveries[0].id)).toMatchObject({ status: 'FAILED', attempts: 1 });
  });
});

describe('secret rotation', () => {
  it('rotateWebhookSecret returns a new secret once, and both the old and the new one verify deliveries for 24 hours', async () => {
    const hook = await receiver({ status: 200 });
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, hook.url);
    const res = await gql(
      app.url,
      user.key,
      `mutation ($id: ID!) { rotateWebhookSecret(endpointId: $id) {
      __typename ... on RotateWebhookSecretSuccess { secret endpoint { id previousSecretExpiresAt } } } }`,
      { id: endpoint.id },
    );
    const rotated = res.body.data.rotateWebhookSecret;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const overlapHours = (new Date(rotated.endpoint.previousSecretExpiresAt).getTime() - Date.now()) / 3_600_000;
    expect(overlapHours).toBeGreaterThan(23.9);
    expect(overlapHours).toBeLessThanOrEqual(24);

    const { deliveries } = await emitTerminalEvent(app, user.id);
    await waitForDelivery(app, deliveries[0].id);
    const [req] = hook.requests;
    expect(req.headers['webhook-signature']!.toString().split(' ')).toHaveLength(2);
    expect(signatureValid(endpoint.secret, req)).toBe(true);
    expect(signatureValid(rotated.secret, req)).toBe(true);

    // Once the overlap is over, only the new secret signs.
    await app.services.database.db
      .update(webhookEndpoints)
      .set({ previousSecretExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(webhookEndpoints.id, endpoint.id));
    const next = await emitTerminalEvent(app, user.id);
    await waitForDelivery(app, next.deliveries[0].id);
    const last = hook.requests[1];
    expect(signatureValid(rotated.secret, last)).toBe(true);
    expect(signatureValid(endpoint.secret, last)).toBe(false);
  });

  it("rotateViewerWebhookSecret rotates the secret of jobs' own webhookUrl the same way", async () => {
    const hook = await receiver({ status: 200 });
    const user = await app.createUser();
    const old = await viewerSecret(app, user);
    const res = await gql(app.url, user.key, 'mutation { rotateViewerWebhookSecret { secret previousSecretExpiresAt } }');
    const { secret } = res.body.data.rotateViewerWebhookSecret;
    expect(secret).not.toBe(old);
    expect(await viewerSecret(app, user)).toBe(secret);

    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: hook.url });
    await waitForDelivery(app, deliveries[0].id);
    expect(signatureValid(old, hook.requests[0])).toBe(true);
    expect(signatureValid(secret, hook.requests[0])).toBe(true);
    expect((await deliveryRow(app, deliveries[0].id)).status).toBe('DELIVERED');
  });
});
