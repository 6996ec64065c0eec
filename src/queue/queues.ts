// Names of the pg-boss queues, shared by producers (API) and consumers (workers).
export const QUEUES = {
  /** One job per processing job; data = { jobId }. */
  videoProcessing: 'video-processing',
  /** One job per webhook delivery; the pg-boss job id is the delivery id. */
  webhookDelivery: 'webhook-delivery',
  /** Scheduled housekeeping: retention of finished jobs, stuck-queue alerts. */
  maintenance: 'maintenance',
} as const;

export const PGBOSS_SCHEMA = 'pgboss';
