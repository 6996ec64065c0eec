// A job's terminal event becomes one delivery row per target (the job's own webhookUrl, and every
// enabled endpoint of the owner subscribed to the event type) plus one pg-boss job per delivery whose
// id is the delivery's id, inside the caller's transaction: a crash can neither lose nor double them.
import { randomUUID } from 'node:crypto';
import { and, arrayContains, eq, sql } from 'drizzle-orm';
import { fromDrizzle, type PgBoss } from 'pg-boss';
import { newId } from '../db/ids';
import { jobs, users, webhookDeliveries, webhookEndpoints } from '../db/schema/index';
import type { DbOrTx } from '../db/client';
import { QUEUES } from '../queue/queues';

export const WEBHOOK_EVENT_TYPES = ['job.completed', 'job.failed', 'job.timed_out', 'job.cancelled'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

type JobRow = typeof jobs.$inferSelect;

export function webhookEventTypeFor(status: string): WebhookEventType | null {
  const type = `job.${status.toLowerCase()}`;
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type) ? (type as WebhookEventType) : null;
}

/** The JSON body, built once and stored, so every retry sends (and signs) the same bytes. */
export function jobWebhookBody(eventId: string, type: WebhookEventType, job: JobRow, at: Date): string {
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
      },
    },
  });
}

export async function enqueueJobWebhooks(tx: DbOrTx, boss: PgBoss, job: JobRow, event: { at: Date }) {
  const type = webhookEventTypeFor(job.status);
  if (!type) return [];
  const endpoints = await tx
    .select({ id: webhookEndpoints.id, url: webhookEndpoints.url })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.ownerId, job.ownerId), eq(webhookEndpoints.enabled, true), arrayContains(webhookEndpoints.events, [type])));
  const targets = [
    ...(job.webhookUrl ? [{ targetKey: 'job', endpointId: null as string | null, url: job.webhookUrl }] : []),
    ...endpoints.map((e) => ({ targetKey: e.id, endpointId: e.id as string | null, url: e.url })),
  ];
  if (!targets.length) return [];
  const eventId = newId('evt');
  const body = jobWebhookBody(eventId, type, job, event.at);
  const rows = targets.map((t) => ({
    id: randomUUID(),
    ownerId: job.ownerId,
    endpointId: t.endpointId,
    jobId: job.id,
    eventId,
    eventType: type,
    targetKey: t.targetKey,
    url: t.url,
    body,
  }));
  await tx.insert(webhookDeliveries).values(rows);
  const db = fromDrizzle(tx as never, sql as never);
  for (const row of rows) {
    await boss.send(QUEUES.webhookDelivery, { deliveryId: row.id }, { id: row.id, db });
  }
  return rows;
}

/** The secrets that sign a delivery: the endpoint's (or, for a job's own URL, the user's), plus the previous one during a rotation. */
export async function signingSecretsFor(tx: DbOrTx, delivery: { endpointId: string | null; ownerId: string }): Promise<string[]> {
  const now = Date.now();
  if (delivery.endpointId) {
    const [e] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, delivery.endpointId));
    if (!e) return [];
    const previous = e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > now ? [e.previousSecret] : [];
    return [e.secret, ...previous];
  }
  const [u] = await tx.select().from(users).where(eq(users.id, delivery.ownerId));
  if (!u) return [];
  const previous =
    u.previousWebhookSecret && u.previousWebhookSecretExpiresAt && u.previousWebhookSecretExpiresAt.getTime() > now ? [u.previousWebhookSecret] : [];
  return [u.webhookSecret, ...previous];
}
