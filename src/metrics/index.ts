// vidq's Prometheus metrics (prom-client). One registry per process: counters and histograms count what
// this process did; the cluster-wide gauges (queue depth and age, open circuits) are read from
// PostgreSQL at scrape time (cluster.ts), so every process reports the same numbers. Labels are
// low-cardinality only: pipeline, stage, status, code, result, operation — never ids or URLs.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const SECONDS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metrics = {
  jobs: new Counter({ name: 'vidq_jobs_total', help: 'Jobs that reached a terminal status.', labelNames: ['pipeline', 'status'], registers: [registry] }),
  jobRetries: new Counter({
    name: 'vidq_job_retries_total',
    help: 'Automatic retries scheduled after a transient failure.',
    labelNames: ['stage', 'code'],
    registers: [registry],
  }),
  stageDuration: new Histogram({
    name: 'vidq_stage_duration_seconds',
    help: 'How long stage runs took, by how they ended (COMPLETED or FAILED).',
    labelNames: ['stage', 'status'],
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  }),
  queueDepth: new Gauge({ name: 'vidq_queue_depth', help: 'Jobs waiting in QUEUED (cluster-wide).', labelNames: ['pipeline'], registers: [registry] }),
  queueOldestAge: new Gauge({
    name: 'vidq_queue_oldest_age_seconds',
    help: 'How long the oldest QUEUED job has waited (cluster-wide; 0 when none).',
    labelNames: ['pipeline'],
    registers: [registry],
  }),
  uploads: new Counter({ name: 'vidq_uploads_total', help: 'Uploads by result: success, or the error code.', labelNames: ['result'], registers: [registry] }),
  uploadBytes: new Counter({ name: 'vidq_upload_bytes_total', help: 'Bytes of the uploads that became videos.', registers: [registry] }),
  abandonedUploads: new Counter({
    name: 'vidq_storage_abandoned_uploads_total',
    help: 'Multipart uploads of processes gone, by what the sweep got: aborted, refused (parts left in the bucket), failed (tried again).',
    labelNames: ['outcome'],
    registers: [registry],
  }),
  webhookDeliveries: new Counter({
    name: 'vidq_webhook_deliveries_total',
    help: 'Webhook deliveries of job events that ended: DELIVERED, or FAILED after their retries (test events are not counted).',
    labelNames: ['result'],
    registers: [registry],
  }),
  webhookDeliverySeconds: new Histogram({
    name: 'vidq_webhook_delivery_seconds',
    help: 'From the event to its delivery (retries included).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  }),
  webhookCircuitsOpen: new Gauge({
    name: 'vidq_webhook_circuits_open',
    help: "Webhook circuits open now (cluster-wide): enabled endpoints', and jobs' webhookUrl ones with deliveries waiting behind them.",
    registers: [registry],
  }),
  // Without it a failed read would go unseen: /metrics still answers, with the gauges' last values.
  clusterGaugesOk: new Gauge({
    name: 'vidq_cluster_gauges_ok',
    help: '1 when this scrape read the cluster-wide gauges from PostgreSQL, 0 when the read failed (they keep their last values).',
    registers: [registry],
  }),
  alertDeliveries: new Counter({
    name: 'vidq_alert_deliveries_total',
    help: 'Operator alerts sent to ADMIN_ALERT_WEBHOOK_URL: DELIVERED, or FAILED after their retries.',
    labelNames: ['result'],
    registers: [registry],
  }),
  graphqlRequests: new Counter({
    name: 'vidq_graphql_requests_total',
    help: "GraphQL operations, by the SDK's operation name, else the root field selected first, else other.",
    labelNames: ['operation'],
    registers: [registry],
  }),
  graphqlDuration: new Histogram({
    name: 'vidq_graphql_request_duration_seconds',
    help: 'Execution time of queries and mutations, labelled as vidq_graphql_requests_total.',
    labelNames: ['operation'],
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  }),
  wsConnections: new Gauge({ name: 'vidq_ws_connections', help: 'Open WebSocket connections on this process.', registers: [registry] }),
  subscriptions: new Gauge({ name: 'vidq_subscriptions', help: 'Live subscriptions (WebSocket and SSE) on this process.', registers: [registry] }),
};

/**
 * Puts at 0 every series an alert rule of examples/prometheus/vidq-alerts.yml watches with increase().
 * A labelled counter has no series until its first inc(), and Prometheus sees no increase in a series
 * whose first sample is already 1: the first timed-out job, given-up delivery or refused abort of a
 * process would never alert. Called once per process, with its pipelines and the jobs' end statuses.
 */
export function startAlertedSeriesAtZero(pipelines: readonly string[], jobEndStatuses: readonly string[]): void {
  for (const pipeline of pipelines) for (const status of jobEndStatuses) metrics.jobs.inc({ pipeline, status }, 0);
  for (const result of ['DELIVERED', 'FAILED']) metrics.webhookDeliveries.inc({ result }, 0);
  for (const result of ['DELIVERED', 'FAILED']) metrics.alertDeliveries.inc({ result }, 0);
  for (const outcome of ['aborted', 'refused', 'failed']) metrics.abandonedUploads.inc({ outcome }, 0);
}
