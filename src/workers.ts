// Everything a worker process runs. Started by `vidq serve` with ROLE=all or ROLE=worker.
import { startAlertWorkers } from './alerts/worker';
import { startProcessingWorkers } from './jobs/worker';
import type { Services } from './services';
import { startWebhookWorkers } from './webhooks/worker';

export interface Workers {
  stop(): Promise<void>;
}

export async function startWorkers(services: Services): Promise<Workers> {
  const processing = await startProcessingWorkers(services);
  const webhooks = await startWebhookWorkers(services);
  const alerting = await startAlertWorkers(services);
  return {
    async stop() {
      // Deliveries first: they finish within the webhook timeout and record their outcome.
      await webhooks.stop();
      await alerting.stop();
      await processing.stop();
    },
  };
}
