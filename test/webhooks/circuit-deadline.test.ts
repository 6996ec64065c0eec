// A delivery held back by an open circuit waits without using its attempts, but not forever: once it is
// WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS past its event it is FAILED without being sent, and redeliverWebhook
// can send it again once the receiver works. Before, deliveries behind a circuit that kept failing its
// probes stayed PENDING indefinitely.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { waitFor } from '../helpers/jobs';
import { startReceiver } from '../helpers/webhook-receiver';
import { deliveryRow, emitTerminalEvent, waitForDelivery } from './helpers';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    env: {
      WEBHOOK_RETRY_BASE_SECONDS: '0.3',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '1',
      // No probe within the test: every delivery after the first failure is held back.
      WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '600',
      WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS: '2',
    },
  });
});
afterAll(async () => {
  await app?.close();
});

describe('a delivery behind an open circuit', () => {
  it('is FAILED, not sent, once WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS have passed since its event, and can be redelivered', async () => {
    const hook = await startReceiver({ status: 500 });
    try {
      const user = await app.createUser();
      const url = `${hook.url}/hook`;
      const first = await emitTerminalEvent(app, user.id, { webhookUrl: url });
      // Its failure, once recorded, opens the circuit.
      await waitFor('the first failure recorded', async () => (await deliveryRow(app, first.deliveries[0].id)).lastStatusCode === 500, 15_000);
      const held = await emitTerminalEvent(app, user.id, { webhookUrl: url });

      const given = await waitForDelivery(app, held.deliveries[0].id, ['DELIVERED', 'FAILED'], 20_000);
      expect(given).toMatchObject({ status: 'FAILED', attempts: 0, errorCode: 'WEBHOOK_DELIVERY_FAILED' });
      expect(given.lastError).toMatch(/circuit was still open 2 seconds after the event.*redeliverWebhook/);
      // Woken at its deadline, not at the probe's time ten minutes on.
      expect(given.updatedAt.getTime() - given.createdAt.getTime()).toBeLessThan(60_000);
      // The first, which failed once, is given up the same way instead of waiting for probes.
      expect(await waitForDelivery(app, first.deliveries[0].id, ['DELIVERED', 'FAILED'], 20_000)).toMatchObject({ status: 'FAILED', attempts: 1 });
      expect(hook.requests).toHaveLength(1);

      const redelivered = await gql(app.url, user.key, `mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { __typename ... on Error { message } } }`, {
        id: given.id,
      });
      expect(redelivered.body.data.redeliverWebhook.__typename).toBe('RedeliverWebhookSuccess');
      expect((await deliveryRow(app, given.id)).status).toBe('FAILED'); // the original stays as it ended
    } finally {
      await hook.close();
    }
  });
});
