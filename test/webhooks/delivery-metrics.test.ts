// vidq_webhook_deliveries_total counts deliveries of job events, which VidqWebhookDeliveriesFailing
// watches. A webhook.test event is an integrator checking a receiver, often one that is not ready yet:
// it is not counted, delivered or failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metrics } from '../../src/metrics/index';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { startReceiver } from '../helpers/webhook-receiver';
import { createEndpoint, emitTerminalEvent, waitForDelivery } from './helpers';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ env: { WEBHOOK_MAX_RETRIES: '0', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '100' } });
});
afterAll(async () => {
  await app?.close();
});

const counted = async () => {
  const values = (await metrics.webhookDeliveries.get()).values;
  const of = (result: string) => values.find((v) => v.labels.result === result)?.value ?? 0;
  return { DELIVERED: of('DELIVERED'), FAILED: of('FAILED') };
};
const SEND_TEST = `mutation ($id: ID!) { sendTestWebhook(endpointId: $id) { __typename ... on SendTestWebhookSuccess { delivery { id } } } }`;

describe('vidq_webhook_deliveries_total', () => {
  it('counts job events delivered and failed, and no webhook.test event', async () => {
    const user = await app.createUser();
    const failing = await startReceiver({ status: 500 });
    const working = await startReceiver({ status: 200 });
    try {
      const before = await counted();
      for (const url of [failing.url, working.url]) {
        const endpoint = await createEndpoint(app, user, url, { events: ['job.failed'] });
        const sent = await gql(app.url, user.key, SEND_TEST, { id: endpoint.id });
        await waitForDelivery(app, sent.body.data.sendTestWebhook.delivery.id);
      }
      expect(await counted()).toEqual(before);

      // Job events to the same receivers: counted (the job.failed endpoints above take no job.completed).
      for (const url of [failing.url, working.url]) {
        const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: url });
        await waitForDelivery(app, deliveries[0].id);
      }
      expect(await counted()).toEqual({ DELIVERED: before.DELIVERED + 1, FAILED: before.FAILED + 1 });
    } finally {
      await failing.close();
      await working.close();
    }
  });
});
