// Names of the pg-boss queues, shared by producers (API) and consumers (workers).
export const QUEUES = {
  /** One job per processing job; data = { jobId }. */
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
