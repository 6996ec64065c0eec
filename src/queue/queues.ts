// Names of the pg-boss queues, shared by producers (API) and consumers (workers).
export const QUEUES = {
  /** One job per processing job of the `default` pipeline; data = { jobId }. Other pipelines: processingQueue(). */
  videoProcessing: 'video-processing',
  /** One job per webhook delivery; the pg-boss job id is the delivery id. */
  webhookDelivery: 'webhook-delivery',
  /** Scheduled housekeeping: retention of finished jobs, stuck-queue alerts. */
  maintenance: 'maintenance',
  /** One job per alert sent to ADMIN_ALERT_WEBHOOK_URL; the pg-boss job id is derived from the alert id. */
  alertDelivery: 'alert-delivery',
  /** Scheduled every minute: jobs stuck in QUEUED, and alerts whose delivery was not enqueued yet. */
  alertScan: 'alert-scan',
} as const;

export const PGBOSS_SCHEMA = 'pgboss';

/**
 * The queue of a pipeline's jobs: one per pipeline, so that a worker fetches only jobs it can run
 * (WORKER_PIPELINES) and a job no running worker serves simply waits. `default` keeps the first
 * wave's name, so jobs queued before an upgrade still run.
 */
export function processingQueue(pipeline: string): string {
  return pipeline === 'default' ? QUEUES.videoProcessing : `${QUEUES.videoProcessing}.${pipeline}`;
}
