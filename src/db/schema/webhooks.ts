// Webhook endpoints, one delivery row per event and target, and every attempt made.
import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from './users';

export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: text().primaryKey(), // whe_…
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    url: text().notNull(),
    description: text(),
    /** Event types this endpoint receives, e.g. job.completed. */
    events: text().array().notNull(),
    secret: text().notNull(),
    /** After a rotation the old secret keeps signing until it expires. */
    previousSecret: text(),
    previousSecretExpiresAt: timestamp({ withTimezone: true }),
    enabled: boolean().notNull().default(true),
    disabledReason: text(),
    /** Circuit breaker, shared by every worker: CLOSED OPEN HALF_OPEN */
    circuitState: text().notNull().default('CLOSED'),
    consecutiveFailures: integer().notNull().default(0),
    circuitOpenedAt: timestamp({ withTimezone: true }),
    nextProbeAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_owner_idx').on(t.ownerId)],
);

/**
 * The circuit of a job's own webhookUrl, per owner and URL, shared by every worker: the same breaker as
 * an endpoint's (columns as on webhook_endpoints). No row means CLOSED and clean; a success removes it.
 * Per owner, so that one user's failing deliveries cannot hold back another's to the same URL.
 */
export const webhookUrlCircuits = pgTable(
  'webhook_url_circuits',
  {
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    url: text().notNull(),
    circuitState: text().notNull().default('CLOSED'),
    consecutiveFailures: integer().notNull().default(0),
    circuitOpenedAt: timestamp({ withTimezone: true }),
    nextProbeAt: timestamp({ withTimezone: true }),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.url] })],
);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    /** Also the id of the pg-boss job that delivers it, so it can be enqueued only once. */
    id: uuid().primaryKey(),
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    endpointId: text().references(() => webhookEndpoints.id, { onDelete: 'set null' }),
    jobId: text(),
    /** The event's id, sent as webhook-id on every attempt (evt_…). */
    eventId: text().notNull(),
    eventType: text().notNull(),
    /** endpoint id, or "job" for the job's own webhookUrl: one delivery per event and target. */
    targetKey: text().notNull(),
    url: text().notNull(),
    /** The exact body sent, so every retry signs the same bytes. */
    body: text().notNull(),
    /** PENDING DELIVERED FAILED */
    status: text().notNull().default('PENDING'),
    attempts: integer().notNull().default(0),
    lastStatusCode: integer(),
    lastError: text(),
    errorCode: text(),
    /** When the next attempt is due; null while an attempt is in flight and once the delivery is final. */
    nextAttemptAt: timestamp({ withTimezone: true }),
    /**
     * The lease: the one pg-boss job that may act on this delivery now (null = the delivery's own id,
     * the job created with it). Scheduling a retry or a wait hands the lease to the new job in the same
     * transaction, so a stale or duplicated queue job can never send.
     */
    queueJobId: uuid(),
    /** The lease id of the worker sending the attempt in flight (src/db/process-lease.ts). */
    workerLock: integer(),
    /** For a redelivery (redeliverWebhook): the delivery it repeats. */
    redeliveryOf: uuid(),
    deliveredAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_target_idx').on(t.eventId, t.targetKey),
    index('webhook_deliveries_job_idx').on(t.jobId),
    index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.createdAt),
    // The crash-recovery sweep looks at attempts in flight only, twice a second.
    index('webhook_deliveries_in_flight_idx')
      .on(t.workerLock)
      .where(sql`status = 'PENDING' and next_attempt_at is null`),
    // The open-circuits gauge (every scrape) and the idle-circuit sweep ask whether an owner's delivery
    // to a webhookUrl is still waiting.
    index('webhook_deliveries_pending_url_idx')
      .on(t.ownerId, t.url)
      .where(sql`status = 'PENDING'`),
  ],
);

export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    deliveryId: uuid()
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer().notNull(),
    statusCode: integer(),
    latencyMs: integer().notNull(),
    error: text(),
    responseSnippet: text(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // One row per attempt number: two workers can never both record (or send) the same attempt.
  (t) => [uniqueIndex('webhook_delivery_attempts_delivery_attempt_idx').on(t.deliveryId, t.attempt)],
);

/** Operator alerts: timeouts, failures after retries, stuck queues, open circuits. */
export const alerts = pgTable(
  'alerts',
  {
    id: text().primaryKey(), // alr_…
    kind: text().notNull(),
    code: text().notNull(),
    ownerId: text(),
    jobId: text(),
    endpointId: text(),
    message: text().notNull(),
    nextStep: text().notNull(),
    data: jsonb().$type<Record<string, unknown>>(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index('alerts_created_idx').on(t.createdAt),
    // The stuck-queue scan asks, for each waiting job, whether it already has its alert.
    index('alerts_job_idx').on(t.jobId, t.kind),
  ],
);

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookDeliveryAttempts.$inferSelect;
export type AlertRow = typeof alerts.$inferSelect;
