// What a receiver answers is kept (its first 4 KB) in the attempt log. Replies that are not text, such as
// gzip or UTF-16 bodies full of NUL bytes, which PostgreSQL's text cannot hold, must not stop the attempt
// being recorded: a delivery that arrived would be taken for lost and sent again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SuccessRecorder } from '../../src/webhooks/delivery-batch';
import { startTestApp, type TestApp } from '../helpers/app';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import { attemptLog, deliveryRow, emitTerminalEvent, FAST_WEBHOOKS, waitForDelivery } from './helpers';

let app: TestApp;
const receivers: Receiver[] = [];

beforeAll(async () => {
  app = await startTestApp({ env: { ...FAST_WEBHOOKS, WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '100' } });
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await app?.close();
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

const BINARY_REPLY = 'ok\u0000\u0000\u001f\u008b\u0008\u0000binary';

describe('a receiver’s reply with NUL bytes', () => {
  it('is recorded (NULs replaced) with a 2xx: delivered once, not taken for lost and sent again', async () => {
    const user = await app.createUser();
    const hook = await receiver({ status: 200, body: BINARY_REPLY });
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/hook` });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 200 });
    const [attempt, ...more] = await attemptLog(app, row.id);
    expect(more).toEqual([]);
    expect(attempt).toMatchObject({ statusCode: 200, error: null });
    expect(attempt.responseSnippet).toBe('ok\uFFFD\uFFFD\u001f\u008b\u0008\uFFFDbinary');
    expect(hook.requests).toHaveLength(1);
  });

  it('is recorded with a failure: the attempt’s status is kept and it is retried on its schedule', async () => {
    const user = await app.createUser();
    const hook = await receiver([{ status: 500, body: BINARY_REPLY }, { status: 200 }]);
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/hook` });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    const log = await attemptLog(app, row.id);
    expect(log.map((a) => [a.statusCode, a.error])).toEqual([
      [500, 'HTTP 500'],
      [200, null],
    ]);
    expect(log[0].responseSnippet).toContain('binary');
  });
});

describe('successes recorded together', () => {
  it('are each recorded when one of them cannot be: the others are not taken for lost', async () => {
    const user = await app.createUser();
    // Deliveries whose own attempts hang at the receiver: PENDING while the successes below are recorded.
    const hook = await receiver({ hang: true });
    const events = [
      await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/a` }),
      await emitTerminalEvent(app, user.id, { webhookUrl: `${hook.url}/b` }),
    ];
    await hook.waitFor(2, 15_000);
    const [good, bad] = await Promise.all(events.map((e) => deliveryRow(app, e.deliveries[0].id)));
    const success = (row: typeof good, snippet: string) => ({
      claim: {
        id: row.id,
        ownerId: row.ownerId,
        eventId: row.eventId,
        eventType: row.eventType,
        body: row.body,
        url: row.url,
        attempt: 1,
        endpointId: null,
        secrets: [],
      },
      statusCode: 200,
      latencyMs: 5,
      responseBodySnippet: snippet,
    });
    const recorder = new SuccessRecorder(app.services.database.sql);
    // Recorded in the same turn of the event loop: one statement, which the NUL makes PostgreSQL refuse.
    const [recordedGood, recordedBad] = await Promise.allSettled([recorder.record(success(good, 'fine')), recorder.record(success(bad, 'a\u0000b'))]);
    expect(recordedGood).toEqual({ status: 'fulfilled', value: { delivered: true, circuitClosed: false } });
    expect(recordedBad.status).toBe('rejected');
    expect(await deliveryRow(app, good.id)).toMatchObject({ status: 'DELIVERED' });
    expect(await deliveryRow(app, bad.id)).toMatchObject({ status: 'PENDING' });
  });
});
