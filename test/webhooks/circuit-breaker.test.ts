// The per-endpoint circuit breaker, and the two ways to send on demand: sendTestWebhook and
// redeliverWebhook. No retries here (WEBHOOK_MAX_RETRIES=0): each event is one attempt, so failures
// can be counted exactly.
import { publicDeliveryId } from '../../src/webhooks/delivery-id';
import { and, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alerts, webhookEndpoints, webhookUrlCircuits } from '../../src/db/schema/index';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
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
const extraApps: TestApp[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  app = await startTestApp({
    env: { WEBHOOK_MAX_RETRIES: '0', WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '3', WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '1', WEBHOOK_TIMEOUT_MS: '1000' },
  });
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  for (const a of extraApps) await a.close();
  await app?.close();
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

const endpointRow = async (id: string) => (await app.services.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)))[0];
const alertsFor = (endpointId: string) =>
  app.services.database.db
    .select()
    .from(alerts)
    .where(and(eq(alerts.endpointId, endpointId), eq(alerts.kind, 'WEBHOOK_CIRCUIT_OPEN')));
const CIRCUIT = `query ($id: ID!) { webhookEndpoint(id: $id) { ... on WebhookEndpoint { circuit { state consecutiveFailures openedAt nextProbeAt } } } }`;

describe('the circuit of a job’s own webhookUrl', () => {
  const urlCircuit = async (ownerId: string, url: string) =>
    (
      await app.services.database.db
        .select()
        .from(webhookUrlCircuits)
        .where(and(eq(webhookUrlCircuits.ownerId, ownerId), eq(webhookUrlCircuits.url, url)))
    )[0];

  it('opens after 3 failures in a row, alerts once, holds that owner’s deliveries to the URL back until a probe succeeds, and leaves other owners alone', async () => {
    const hook = await receiver({ status: 500 });
    const url = `${hook.url}/job-hook`;
    const user = await app.createUser();
    const other = await app.createUser();
    for (let i = 0; i < 3; i++) {
      const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: url });
      expect(await waitForDelivery(app, deliveries[0].id)).toMatchObject({ status: 'FAILED', attempts: 1 });
    }
    const opened = await urlCircuit(user.id, url);
    expect(opened).toMatchObject({ circuitState: 'OPEN', consecutiveFailures: 3 });
    const probeAt = opened.nextProbeAt!.getTime();
    const openAlerts = await app.services.database.db
      .select()
      .from(alerts)
      .where(and(eq(alerts.ownerId, user.id), eq(alerts.kind, 'WEBHOOK_CIRCUIT_OPEN')));
    expect(openAlerts).toHaveLength(1);
    // Named by its origin and owner: a token in the URL's path or query stays out of alerts.
    expect(openAlerts[0].message).toContain(`The webhookUrl at ${new URL(url).origin} of owner ${user.id}'s jobs failed 3 delivery attempts in a row`);
    expect(openAlerts[0].data).toMatchObject({ urlOrigin: new URL(url).origin, ownerId: user.id });

    // Another owner's deliveries to the same URL are not held back by this owner's circuit.
    const theirs = (await emitTerminalEvent(app, other.id, { webhookUrl: url })).deliveries[0];
    expect(await waitForDelivery(app, theirs.id)).toMatchObject({ status: 'FAILED', attempts: 1 });

    // This owner's next one waits for the probe time; the receiver is back by then.
    hook.setBehaviour({ status: 200 });
    const held = (await emitTerminalEvent(app, user.id, { webhookUrl: url })).deliveries[0];
    expect(await waitForDelivery(app, held.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    expect(hook.requests.at(-1)!.receivedAt.getTime()).toBeGreaterThanOrEqual(probeAt);
    // The success closed it (no row is a closed circuit), and deliveries go at once again.
    expect(await urlCircuit(user.id, url)).toBeUndefined();
    const next = (await emitTerminalEvent(app, user.id, { webhookUrl: url })).deliveries[0];
    expect(await waitForDelivery(app, next.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
  });
});

describe('the circuit breaker', () => {
  it('opens after 3 failed attempts in a row, raises one alert naming the endpoint, the code and the next step, and holds deliveries back until a probe succeeds', async () => {
    const hook = await receiver({ status: 500 });
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, `${hook.url}/down`);
    for (let i = 0; i < 3; i++) {
      const { deliveries } = await emitTerminalEvent(app, user.id);
      expect(await waitForDelivery(app, deliveries[0].id)).toMatchObject({ status: 'FAILED', attempts: 1 });
    }
    const circuit = (await gql(app.url, user.key, CIRCUIT, { id: endpoint.id })).body.data.webhookEndpoint.circuit;
    expect(circuit).toMatchObject({ state: 'OPEN', consecutiveFailures: 3 });
    const openedAt = new Date(circuit.openedAt).getTime();
    const probeAt = new Date(circuit.nextProbeAt).getTime();
    expect(probeAt - openedAt).toBe(1000);

    const [alert] = await alertsFor(endpoint.id);
    expect(alert).toMatchObject({ code: 'WEBHOOK_DELIVERY_FAILED', ownerId: user.id });
    expect(alert.message).toContain(endpoint.id);
    expect(alert.message).toContain(`(at ${hook.url})`);
    expect(alert.message).not.toContain('/down');
    expect(alert.message).toMatch(/failed 3 delivery attempts in a row/);
    expect(alert.nextStep).toMatch(/answers 2xx within 1 second\b.*sendTestWebhook/s);

    // While open, a new delivery waits for the probe time instead of being sent.
    const held = (await emitTerminalEvent(app, user.id)).deliveries[0];
    const probe = await waitForDelivery(app, held.id);
    expect(hook.requests).toHaveLength(4);
    expect(hook.requests[3].receivedAt.getTime()).toBeGreaterThanOrEqual(probeAt);
    // The probe failed: open again for another cool-down, without a second alert.
    expect(probe).toMatchObject({ status: 'FAILED', attempts: 1 });
    const reopened = await endpointRow(endpoint.id);
    expect(reopened).toMatchObject({ circuitState: 'OPEN', consecutiveFailures: 4 });
    expect(reopened.nextProbeAt!.getTime()).toBeGreaterThan(probeAt);

    hook.setBehaviour({ status: 200 });
    const next = (await emitTerminalEvent(app, user.id)).deliveries[0];
    expect(await waitForDelivery(app, next.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    expect(hook.requests.at(-1)!.receivedAt.getTime()).toBeGreaterThanOrEqual(reopened.nextProbeAt!.getTime());
    const closed = (await gql(app.url, user.key, CIRCUIT, { id: endpoint.id })).body.data.webhookEndpoint.circuit;
    expect(closed).toEqual({ state: 'CLOSED', consecutiveFailures: 0, openedAt: null, nextProbeAt: null });
    expect(await alertsFor(endpoint.id)).toHaveLength(1);

    // Closed: deliveries go at once again.
    const after = (await emitTerminalEvent(app, user.id)).deliveries[0];
    expect(await waitForDelivery(app, after.id)).toMatchObject({ status: 'DELIVERED' });
  });

  it('lets exactly one probe through when many deliveries wait on several workers, then sends the rest once each', async () => {
    const second = await startTestApp({
      database: app.database,
      dataDir: app.dataDir,
      env: { ROLE: 'worker', WEBHOOK_MAX_RETRIES: '0', WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '3', WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '1' },
    });
    extraApps.push(second);
    // The probe is answered late, yet well within WEBHOOK_TIMEOUT_MS (1 s) even on a slow machine.
    const PROBE_DELAY_MS = 300;
    const hook = await receiver((_req, i) => (i === 0 ? { status: 200, delayMs: PROBE_DELAY_MS } : { status: 200 }));
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, hook.url);
    await app.services.database.db
      .update(webhookEndpoints)
      .set({ circuitState: 'OPEN', consecutiveFailures: 3, circuitOpenedAt: new Date(), nextProbeAt: new Date(Date.now() + 1000) })
      .where(eq(webhookEndpoints.id, endpoint.id));
    const waiting = [];
    for (let i = 0; i < 6; i++) waiting.push((await emitTerminalEvent(app, user.id)).deliveries[0]);
    for (const d of waiting) expect(await waitForDelivery(app, d.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });

    const reqs = [...hook.requests].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
    expect(reqs).toHaveLength(6);
    expect(new Set(reqs.map((r) => r.headers['webhook-id'])).size).toBe(6);
    // Nothing else was sent while the probe was in flight.
    expect(reqs[1].receivedAt.getTime() - reqs[0].receivedAt.getTime()).toBeGreaterThanOrEqual(PROBE_DELAY_MS);
    expect(await endpointRow(endpoint.id)).toMatchObject({ circuitState: 'CLOSED', consecutiveFailures: 0 });
  });
});

const SEND_TEST = `mutation ($id: ID!) { sendTestWebhook(endpointId: $id) { __typename
  ... on SendTestWebhookSuccess { delivery { id eventType isTest status } }
  ... on InvalidInputError { fieldErrors { path message } } } }`;
const DELIVERY = `query ($id: ID!) { webhookDelivery(id: $id) { __typename ... on WebhookDelivery { ${DELIVERY_FIELDS} } } }`;

describe('sendTestWebhook', () => {
  it('sends a signed webhook.test event at once, even to a disabled endpoint with an open circuit, and its success closes the circuit', async () => {
    const hook = await receiver({ status: 200 });
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, hook.url);
    await gql(app.url, user.key, 'mutation ($id: ID!) { disableWebhookEndpoint(id: $id) { __typename } }', { id: endpoint.id });
    await app.services.database.db
      .update(webhookEndpoints)
      .set({ circuitState: 'OPEN', consecutiveFailures: 9, circuitOpenedAt: new Date(), nextProbeAt: new Date(Date.now() + 3_600_000) })
      .where(eq(webhookEndpoints.id, endpoint.id));

    const res = await gql(app.url, user.key, SEND_TEST, { id: endpoint.id });
    const { delivery } = res.body.data.sendTestWebhook;
    expect(delivery).toMatchObject({ eventType: 'webhook.test', isTest: true, status: 'PENDING' });
    await waitForDelivery(app, delivery.id);
    const shown = (await gql(app.url, user.key, DELIVERY, { id: delivery.id })).body.data.webhookDelivery;
    expect(shown).toMatchObject({ status: 'DELIVERED', attempts: 1, endpointId: endpoint.id, jobId: null, attemptsLog: [{ number: 1, statusCode: 200 }] });

    const [req] = hook.requests;
    const body = verified(endpoint.secret, req) as Record<string, any>;
    expect(body).toMatchObject({ type: 'webhook.test', id: shown.eventId, data: { endpoint: { id: endpoint.id, url: hook.url } } });
    expect(await endpointRow(endpoint.id)).toMatchObject({ circuitState: 'CLOSED', consecutiveFailures: 0, enabled: false });
  });

  it('makes one attempt only, and a failure leaves the circuit as it was', async () => {
    const hook = await receiver({ status: 500 });
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, hook.url);
    const { delivery } = (await gql(app.url, user.key, SEND_TEST, { id: endpoint.id })).body.data.sendTestWebhook;
    expect(await waitForDelivery(app, delivery.id)).toMatchObject({ status: 'FAILED', errorCode: 'WEBHOOK_DELIVERY_FAILED', attempts: 1, lastStatusCode: 500 });
    expect(await endpointRow(endpoint.id)).toMatchObject({ circuitState: 'CLOSED', consecutiveFailures: 0 });
    expect(hook.requests).toHaveLength(1);
  });
});

const REDELIVER = `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { __typename
  ... on RedeliverWebhookSuccess { delivery { id eventId redeliveryOf status } }
  ... on InvalidInputError { fieldErrors { path message } } } }`;

describe('redeliverWebhook', () => {
  it("sends a failed delivery's event again as a new delivery with the same webhook-id and body, leaving the first one as it was", async () => {
    const hook = await receiver((req) => (req.path === '/own' ? { status: 200 } : { status: 500 }));
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, hook.url);
    const { deliveries, job } = await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/own` });
    const toEndpoint = deliveries.find((d) => d.endpointId === endpoint.id)!;
    const toJob = deliveries.find((d) => d.endpointId === null)!;
    expect(await waitForDelivery(app, toEndpoint.id)).toMatchObject({ status: 'FAILED' });
    expect(await waitForDelivery(app, toJob.id)).toMatchObject({ status: 'DELIVERED' });

    hook.setBehaviour({ status: 200 });
    const res = await gql(app.url, user.key, REDELIVER, { id: toEndpoint.id });
    const again = res.body.data.redeliverWebhook.delivery;
    expect(again).toMatchObject({ eventId: toEndpoint.eventId, redeliveryOf: publicDeliveryId(toEndpoint.id), status: 'PENDING' });
    expect(again.id).not.toBe(toEndpoint.id);
    expect(await waitForDelivery(app, again.id)).toMatchObject({ status: 'DELIVERED', attempts: 1, jobId: job.id });
    expect(await deliveryRow(app, toEndpoint.id)).toMatchObject({ status: 'FAILED', attempts: 1 });

    const toEndpointReqs = hook.requests.filter((r) => r.path === '/');
    expect(toEndpointReqs).toHaveLength(2);
    expect(toEndpointReqs[1].headers['webhook-id']).toBe(toEndpointReqs[0].headers['webhook-id']);
    expect(toEndpointReqs[1].body).toBe(toEndpointReqs[0].body);
    expect(signatureValid(endpoint.secret, toEndpointReqs[1])).toBe(true);

    // A delivered one can be sent again too (the receiver asked for it); the job's own URL keeps its secret.
    const ownAgain = (await gql(app.url, user.key, REDELIVER, { id: toJob.id })).body.data.redeliverWebhook.delivery;
    await waitForDelivery(app, ownAgain.id);
    const own = hook.requests.filter((r) => r.path === '/own');
    expect(own).toHaveLength(2);
    expect(signatureValid(await viewerSecret(app, user), own[1])).toBe(true);
    expect((await attemptLog(app, ownAgain.id)).map((a) => a.statusCode)).toEqual([200]);
  });

  it('refuses a delivery still pending, one to a disabled endpoint, and an unknown or foreign id alike', async () => {
    const hook = await receiver({ hang: true });
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, hook.url);
    const pending = (await emitTerminalEvent(app, user.id)).deliveries[0];
    const stillPending = await gql(app.url, user.key, REDELIVER, { id: pending.id });
    expect(stillPending.body.data.redeliverWebhook.fieldErrors[0].message).toMatch(/still being delivered/);

    await waitForDelivery(app, pending.id);
    await gql(app.url, user.key, 'mutation ($id: ID!) { disableWebhookEndpoint(id: $id) { __typename } }', { id: endpoint.id });
    const disabled = await gql(app.url, user.key, REDELIVER, { id: pending.id });
    expect(disabled.body.data.redeliverWebhook.fieldErrors[0].message).toMatch(/endpoint is disabled/);

    const stranger = await app.createUser();
    const foreign = await gql(app.url, stranger.key, REDELIVER, { id: pending.id });
    const unknown = await gql(app.url, stranger.key, REDELIVER, { id: '00000000-0000-4000-8000-000000000000' });
    expect(foreign.body.data.redeliverWebhook).toEqual({
      __typename: 'InvalidInputError',
      fieldErrors: [{ path: ['deliveryId'], message: `No webhook delivery with id '${pending.id}' exists.` }],
    });
    expect(JSON.stringify(unknown.body.data).replace('00000000-0000-4000-8000-000000000000', pending.id)).toBe(JSON.stringify(foreign.body.data));
  });
});
