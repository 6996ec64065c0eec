// The alert workers of a worker process:
//   - alert-scan, scheduled every minute: jobs stuck in QUEUED, then any alert whose delivery is not
//     enqueued yet;
//   - alert-delivery: one POST per alert to ADMIN_ALERT_WEBHOOK_URL, retried with backoff by pg-boss;
//   - a LISTEN on the alerts channel, so that an alert's delivery is enqueued within moments rather
//     than at the next scan.
import type { JobWithMetadata } from 'pg-boss';
import { QUEUES } from '../queue/queues';
import type { Services } from '../services';
import { ALERTS_CHANNEL } from './alerts';
import { metrics } from '../metrics/index';
import { type AlertDeliveryData, deliverAlert, enqueuePendingAlertDeliveries } from './alert-webhook';
import { raiseStuckQueuedAlerts } from './scan';

export const ALERT_SCAN_CRON = '* * * * *';
const SWEEP_MS = 15_000;

export interface AlertWorkers {
  stop(): Promise<void>;
}

export async function startAlertWorkers(services: Services): Promise<AlertWorkers> {
  const { boss, config } = services;
  const log = services.log.child({ component: 'alerts' });
  let enqueuing: Promise<unknown> | null = null;
  let again = false;
  /** Enqueues pending deliveries, one pass at a time (a burst of notices costs one or two passes). */
  const enqueue = () => {
    if (!config.adminAlertWebhookUrl) return;
    if (enqueuing) {
      again = true;
      return;
    }
    enqueuing = enqueuePendingAlertDeliveries(services)
      .catch((error) => log.warn({ err: error }, 'enqueuing alert deliveries failed; the sweep retries'))
      .finally(() => {
        enqueuing = null;
        if (again) {
          again = false;
          enqueue();
        }
      });
  };

  await boss.work(QUEUES.alertScan, async () => {
    await raiseStuckQueuedAlerts(services);
    await enqueuePendingAlertDeliveries(services);
  });
  await boss.schedule(QUEUES.alertScan, ALERT_SCAN_CRON, { task: 'stuck-queued' });

  await boss.work(
    QUEUES.alertDelivery,
    {
      includeMetadata: true as const,
      batchSize: 1,
      localConcurrency: 2,
      // New deliveries wake the worker through NOTIFY; retries come due silently, so poll too.
      pollingIntervalSeconds: 1,
      notifyPollingIntervalSeconds: 1,
    },
    async ([job]: JobWithMetadata<AlertDeliveryData>[]) => {
      try {
        const result = await deliverAlert(services, job.data.alertId);
        if (result) log.info({ alertId: job.data.alertId, ...result, attempt: job.retryCount + 1 }, 'alert delivered');
        if (result) metrics.alertDeliveries.inc({ result: 'DELIVERED' });
        return result;
      } catch (error) {
        const retriesLeft = job.retryLimit - job.retryCount;
        log.warn({ err: error, alertId: job.data.alertId, attempt: job.retryCount + 1, retriesLeft }, 'alert delivery failed');
        // The queue's last try: the alert reaches no one but the dashboard, and VidqAdminAlertDeliveriesFailing.
        if (retriesLeft <= 0) metrics.alertDeliveries.inc({ result: 'FAILED' });
        throw error;
      }
    },
  );

  let listening: { unlisten(): Promise<void> } | null = null;
  let sweep: NodeJS.Timeout | undefined;
  if (config.adminAlertWebhookUrl) {
    listening = await services.database.sql.listen(ALERTS_CHANNEL, enqueue, enqueue);
    sweep = setInterval(enqueue, SWEEP_MS);
    sweep.unref();
  }

  return {
    async stop() {
      clearInterval(sweep);
      await listening?.unlisten().catch(() => {});
      await enqueuing;
    },
  };
}
