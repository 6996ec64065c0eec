// Delivery of alerts to ADMIN_ALERT_WEBHOOK_URL: one pg-boss job per alert, retried with backoff,
// run by the workers — never inside the transaction that raised the alert, so a slow or dead receiver
// can neither block nor change a job.
//
// raiseAlert() only inserts the row (its callers hold a transaction but not always the queue). The
// row is the outbox: workers enqueue the delivery of every alert that has none yet, on the alert's
// NOTIFY and on a periodic sweep. The pg-boss job id is derived from the alert id, so however many
// workers race to enqueue one alert, it is enqueued (and sent) once.
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { alerts } from '../db/schema/index';
import { PGBOSS_SCHEMA, QUEUES } from '../queue/queues';
import type { Services } from '../services';
import { sendWebhook } from '../webhooks/http-sender';
import { urlOrigin } from '../webhooks/redact-url';
import { signWebhook } from '../webhooks/signing';
import type { AlertRow } from '../db/schema/index';

export interface AlertDeliveryData {
  alertId: string;
}

/** Alerts older than this are never enqueued by the sweep (e.g. raised before a URL was configured). */
const ENQUEUE_WINDOW = '1 hour';

/** The pg-boss job id of an alert's delivery: a UUID-shaped MD5 of the alert id (also computable in SQL as md5(id)::uuid). */
export function alertDeliveryJobId(alertId: string): string {
  const h = createHash('md5').update(alertId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Enqueues the delivery of every recent alert that has none yet. Returns how many it enqueued. */
export async function enqueuePendingAlertDeliveries(services: Services): Promise<number> {
  if (!services.config.adminAlertWebhookUrl) return 0;
  const { sql } = services.database;
  const pending = await sql<{ id: string }[]>`
    select a.id from alerts a
    where a.created_at > now() - ${ENQUEUE_WINDOW}::interval
      and not exists (select 1 from ${sql(PGBOSS_SCHEMA)}.job j where j.name = ${QUEUES.alertDelivery} and j.id = md5(a.id)::uuid)
    order by a.created_at
    limit 500`;
  let enqueued = 0;
  for (const { id } of pending) {
    const jobId = await services.boss.send(QUEUES.alertDelivery, { alertId: id } satisfies AlertDeliveryData, { id: alertDeliveryJobId(id) });
    if (jobId) enqueued++;
  }
  return enqueued;
}

/** The JSON body posted for an alert, shaped like the job webhooks: { type, id, createdAt, data }. */
export function alertBody(alert: AlertRow): string {
  return JSON.stringify({
    type: 'alert.raised',
    id: alert.id,
    createdAt: alert.createdAt.toISOString(),
    data: {
      alert: {
        id: alert.id,
        kind: alert.kind,
        code: alert.code,
        message: alert.message,
        nextStep: alert.nextStep,
        jobId: alert.jobId,
        endpointId: alert.endpointId,
        ownerId: alert.ownerId,
        details: alert.data ?? null,
        createdAt: alert.createdAt.toISOString(),
      },
    },
  });
}

export class AlertDeliveryFailed extends Error {
  override name = 'AlertDeliveryFailed';
}

/** One attempt; throws on failure so that pg-boss retries it with backoff. */
export async function deliverAlert(services: Services, alertId: string): Promise<{ statusCode: number | null; latencyMs: number } | null> {
  const url = services.config.adminAlertWebhookUrl;
  if (!url) return null; // the URL was removed since: nothing to do
  const [alert] = await services.database.db.select().from(alerts).where(eq(alerts.id, alertId));
  if (!alert) return null;
  const body = alertBody(alert);
  const secret = services.config.adminAlertWebhookSecret;
  const headers: Record<string, string> = secret
    ? signWebhook({ id: alert.id, timestamp: new Date(), body, secrets: [secret] })
    : { 'webhook-id': alert.id, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };
  // The URL is the operator's own configuration, so private addresses are allowed.
  const result = await sendWebhook({ url, body, headers, timeoutMs: 10_000, allowPrivate: true });
  // The origin only: a Slack or Teams URL carries its token in the path, and this message is logged,
  // kept in pg-boss's job output and shown as Alert.delivery.lastError.
  if (!result.ok) throw new AlertDeliveryFailed(`alert ${alert.id} to ${urlOrigin(url)}: ${result.error ?? `HTTP ${result.statusCode}`}`);
  return { statusCode: result.statusCode, latencyMs: result.latencyMs };
}
