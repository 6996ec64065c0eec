// Creating deliveries. A job's terminal event becomes one delivery row per target (the job's own
// webhookUrl, and every enabled endpoint of the owner subscribed to the event type) plus one pg-boss job
// per delivery whose id is the delivery's id, inside the caller's transaction: a crash can neither lose
// nor double them. Test events and redeliveries are created the same way.
import { randomUUID } from 'node:crypto';
import { and, arrayContains, eq } from 'drizzle-orm';
import type { PgBoss } from 'pg-boss';
import type { DbOrTx } from '../db/client';
import { newId } from '../db/ids';
import { users, webhookDeliveries, webhookEndpoints } from '../db/schema/index';
import { QUEUES } from '../queue/queues';
import { insertInTx } from '../queue/send-in-tx';
import type { DeliveryRow, EndpointRow, JobRow } from '../db/schema/index';
import type { OutputFileWithUrl } from '../downloads/urls';

export const WEBHOOK_EVENT_TYPES = ['job.completed', 'job.failed', 'job.timed_out', 'job.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent on demand by sendTestWebhook; endpoints need not subscribe to it. */
export const TEST_EVENT_TYPE = 'webhook.test';
/** targetKey of a delivery to a job's own webhookUrl (endpoint deliveries use the endpoint's id). */
export const JOB_TARGET = 'job';

type NewDelivery = typeof webhookDeliveries.$inferInsert;

/** What the delivery queue's jobs carry: the delivery to work on (the lease says whether they may). */
export interface DeliveryJobData {
  deliveryId: string;
}

export function webhookEventTypeFor(status: string): WebhookEventType | null {
  const type = `job.${status.toLowerCase()}`;
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type) ? (type as WebhookEventType) : null;
}

/** The JSON body, built once and stored, so every retry sends (and signs) the same bytes. */
export function jobWebhookBody(eventId: string, type: WebhookEventType, job: JobRow, at: Date, output?: { files: OutputFileWithUrl[] }): string {
  return JSON.stringify({
    type,
    id: eventId,
    createdAt: at.toISOString(),
    data: {
      job: {
        id: job.id,
        status: job.status,
        videoId: job.videoId,
        error: job.error ?? null,
        progress: job.progress,
        attempt: job.attempt,
        options: job.options,
        createdAt: job.createdAt.toISOString(),
        startedAt: job.startedAt?.toISOString() ?? null,
        finishedAt: job.finishedAt?.toISOString() ?? null,
        // job.completed only: its files, downloadable as long as the API's download URLs are (24 h).
        ...(output ? { output } : {}),
      },
    },
  });
}

/** Inserts delivery rows and their first queue jobs (id = delivery id) in the caller's transaction. */
async function insertDeliveries(tx: DbOrTx, boss: PgBoss, rows: Omit<NewDelivery, 'queueJobId' | 'nextAttemptAt'>[]): Promise<DeliveryRow[]> {
  if (!rows.length) return [];
  const now = new Date();
  const inserted = await tx
    .insert(webhookDeliveries)
    .values(rows.map((r) => ({ ...r, queueJobId: r.id, nextAttemptAt: now })))
    .returning();
  await insertInTx(
    boss,
    tx,
    QUEUES.webhookDelivery,
    inserted.map((r) => ({ id: r.id, data: { deliveryId: r.id } satisfies DeliveryJobData })),
  );
  return inserted;
}

export async function enqueueJobWebhooks(tx: DbOrTx, boss: PgBoss, job: JobRow, event: { at: Date }, output?: { files: OutputFileWithUrl[] }) {
  const type = webhookEventTypeFor(job.status);
  if (!type) return [];
  const endpoints = await tx
    .select({ id: webhookEndpoints.id, url: webhookEndpoints.url })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.ownerId, job.ownerId), eq(webhookEndpoints.enabled, true), arrayContains(webhookEndpoints.events, [type])));
  const targets = [
    ...(job.webhookUrl ? [{ targetKey: JOB_TARGET, endpointId: null as string | null, url: job.webhookUrl }] : []),
    ...endpoints.map((e) => ({ targetKey: e.id, endpointId: e.id as string | null, url: e.url })),
  ];
  if (!targets.length) return [];
  const eventId = newId('evt');
  const body = jobWebhookBody(eventId, type, job, event.at, output);
  return insertDeliveries(
    tx,
    boss,
    targets.map((t) => ({
      id: randomUUID(),
      ownerId: job.ownerId,
      endpointId: t.endpointId,
      jobId: job.id,
      eventId,
      eventType: type,
      targetKey: t.targetKey,
      url: t.url,
      body,
    })),
  );
}

/** A signed `webhook.test` event for one endpoint, so an integrator can check their receiver without running a job. */
export async function enqueueTestWebhook(tx: DbOrTx, boss: PgBoss, endpoint: EndpointRow): Promise<DeliveryRow> {
  const eventId = newId('evt');
  const body = JSON.stringify({
    type: TEST_EVENT_TYPE,
    id: eventId,
    createdAt: new Date().toISOString(),
    data: {
      endpoint: { id: endpoint.id, url: endpoint.url, events: endpoint.events },
      message: 'A test event sent with sendTestWebhook. Verify its signature, then answer 2xx within 10 seconds.',
    },
  });
  const [row] = await insertDeliveries(tx, boss, [
    {
      id: randomUUID(),
      ownerId: endpoint.ownerId,
      endpointId: endpoint.id,
      jobId: null,
      eventId,
      eventType: TEST_EVENT_TYPE,
      targetKey: endpoint.id,
      url: endpoint.url,
      body,
    },
  ]);
  return row;
}

/**
 * Sends a finished delivery's event again: a new delivery row (its own attempts and log) for the same
 * event id, so a receiver that de-duplicates by webhook-id sees it as the same event. `body` is the
 * original's, with fresh download URLs for job.completed (delivery-access.ts). The target key gets a
 * suffix because (event, target) is unique for the deliveries the event created.
 */
export async function enqueueRedelivery(tx: DbOrTx, boss: PgBoss, original: DeliveryRow, url: string, body: string): Promise<DeliveryRow> {
  const id = randomUUID();
  const [row] = await insertDeliveries(tx, boss, [
    {
      id,
      ownerId: original.ownerId,
      endpointId: original.endpointId,
      jobId: original.jobId,
      eventId: original.eventId,
      eventType: original.eventType,
      targetKey: `${baseTargetKey(original.targetKey)}#redelivery:${id}`,
      url,
      body,
      redeliveryOf: original.id,
    },
  ]);
  return row;
}

/** The target a delivery goes to, without a redelivery suffix: "job" or an endpoint id. */
export function baseTargetKey(targetKey: string): string {
  return targetKey.split('#')[0];
}

export function isJobTarget(delivery: Pick<DeliveryRow, 'targetKey'>): boolean {
  return baseTargetKey(delivery.targetKey) === JOB_TARGET;
}

/** Secrets that sign now: the current one, plus the previous one while its overlap lasts. */
export function activeSecrets(current: string, previous: string | null, previousExpiresAt: Date | null, now = Date.now()): string[] {
  return previous && previousExpiresAt && previousExpiresAt.getTime() > now ? [current, previous] : [current];
}

/** The secrets that sign a delivery: the endpoint's (or, for a job's own URL, the user's), plus the previous one during a rotation. */
export async function signingSecretsFor(tx: DbOrTx, delivery: Pick<DeliveryRow, 'endpointId' | 'ownerId' | 'targetKey'>): Promise<string[]> {
  if (!isJobTarget(delivery)) {
    if (!delivery.endpointId) return [];
    const [e] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, delivery.endpointId));
    return e ? activeSecrets(e.secret, e.previousSecret, e.previousSecretExpiresAt) : [];
  }
  const [u] = await tx.select().from(users).where(eq(users.id, delivery.ownerId));
  return u ? activeSecrets(u.webhookSecret, u.previousWebhookSecret, u.previousWebhookSecretExpiresAt) : [];
}
