// One run of a `webhook-delivery` queue job: at most one HTTP attempt of one delivery.
//
// The delivery row names the one queue job that may act on it (its lease, `queue_job_id`). A run:
//   1. claims attempt n with one UPDATE guarded by (lease, PENDING, attempts = n - 1, not in flight),
//      which also checks the target (job URL, or an enabled endpoint with a closed circuit) and reads
//      the signing secrets (delivery-batch.ts; one statement for a whole fetched batch): no two workers
//      ever send the same attempt;
//   2. when that claim does not go through, reads the row to see why: not PENDING or not leased to
//      this queue job → stale, do nothing; an attempt of this very queue job in flight → its worker
//      died mid-attempt: log it as lost (outcome unknown) and go on as after a failure; endpoint
//      deleted or disabled → FAILED without sending; circuit open → reschedule to the probe time
//      without using an attempt; probe due → claim the one probe (circuit-store.ts), then the attempt;
//   3. signs with a fresh timestamp and sends the stored body;
//   4. records the outcome: a success in one statement (log row, DELIVERED, circuit closed; successes
//      that come back together share it); a
//      failure in one transaction (log row, the next attempt as a new queue job with startAfter that
//      takes the lease, or FAILED with WEBHOOK_DELIVERY_FAILED; 410 disables the endpoint; the circuit).
// Only a crash between the receiver's answer and step 4 can make it see an event twice (at-least-once
// is unavoidable there); the lease makes every other crash or duplicate queue job harmless.
import { metrics } from '../metrics/index';
import { randomUUID } from 'node:crypto';
import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import type { PgBoss } from 'pg-boss';
import { raiseAlert } from '../alerts/alerts';
import type { Config } from '../config';
import type { Database, DbOrTx, Sql } from '../db/client';
import { webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints } from '../db/schema/index';
import type { Logger } from '../logger';
import type { ProcessLease } from '../db/process-lease';
import { QUEUES } from '../queue/queues';
import { sendInTx } from '../queue/send-in-tx';
import { webhookRetryDelaySeconds } from './backoff';
import { canSend, type CircuitState } from './circuit';
import { type CircuitTarget, circuitOf, claimProbe, readCircuit, recordCircuitResult } from './circuit-store';
import { type Claim, claimBatch, claimFast, recordSuccesses, type SuccessRecorder } from './delivery-batch';
import { activeSecrets, type DeliveryJobData, isJobTarget, signingSecretsFor, TEST_EVENT_TYPE } from './events';
import { type SendResult, sendWebhook } from './http-sender';
import { publicDeliveryId } from './delivery-id';
import { urlOrigin } from './redact-url';
import { signWebhook } from './signing';
import type { DeliveryRow, EndpointRow } from '../db/schema/index';

export const WEBHOOK_DELIVERY_FAILED = 'WEBHOOK_DELIVERY_FAILED';

export interface DeliverySettings {
  timeoutMs: number;
  maxRetries: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  failureThreshold: number;
  cooldownSeconds: number;
  /** A delivery this long after its event, still held back by an open circuit, is given up. */
  circuitMaxWaitSeconds: number;
  allowPrivate: boolean;
}

export function deliverySettings(config: Config): DeliverySettings {
  return {
    timeoutMs: config.webhookTimeoutMs,
    maxRetries: config.webhookMaxRetries,
    retryBaseSeconds: config.webhookRetryBaseSeconds,
    retryMaxSeconds: 3600,
    failureThreshold: config.webhookCircuitFailureThreshold,
    cooldownSeconds: config.webhookCircuitCooldownSeconds,
    circuitMaxWaitSeconds: config.webhookCircuitMaxWaitSeconds,
    allowPrivate: config.webhookAllowPrivateUrls,
  };
}

export interface DeliveryDeps {
  database: Database;
  boss: PgBoss;
  log: Logger;
  settings: DeliverySettings;
  /**
   * Connections for the common path's statements (claim, success); the worker's own pool runs them
   * with synchronous_commit=off (see worker.ts). Defaults to the database's pool.
   */
  stateSql?: Sql;
  /** Records successes together (see SuccessRecorder); without it, one statement each. */
  recorder?: SuccessRecorder;
  /** The worker process's lease: an attempt in flight is tagged with it, so that its loss is seen at once. */
  lease?: ProcessLease;
}

export type DeliveryOutcome = 'stale' | 'delivered' | 'retry-scheduled' | 'failed' | 'waiting';

/** The queue job id that holds the lease (the first job's id is the delivery's own). */
const leaseOf = (d: Pick<DeliveryRow, 'queueJobId' | 'id'>) => d.queueJobId ?? d.id;

/** The row is still PENDING, leased to this queue job, and has made exactly `attempts` attempts. */
function guard(deliveryId: string, queueJobId: string, attempts: number) {
  return and(
    eq(webhookDeliveries.id, deliveryId),
    eq(webhookDeliveries.status, 'PENDING'),
    sql`coalesce(${webhookDeliveries.queueJobId}, ${webhookDeliveries.id}) = ${queueJobId}::uuid`,
    eq(webhookDeliveries.attempts, attempts),
  );
}

/** Runs a fetched batch of queue jobs: one statement claims them all, then each goes its own way. */
export async function processBatch(deps: DeliveryDeps, jobs: Array<{ id: string; data: DeliveryJobData }>): Promise<Array<DeliveryOutcome | Error>> {
  const workerLock = (await deps.lease?.key()) ?? null;
  const claims = await claimBatch(
    deps.stateSql ?? deps.database.sql,
    jobs.map((j) => ({ deliveryId: j.data.deliveryId, queueJobId: j.id })),
    workerLock,
  );
  return Promise.all(
    jobs.map((job) => {
      const claim = claims.get(job.id);
      const run = claim ? attempt(deps, claim, job.id) : processDelivery(deps, job.id, job.data, workerLock);
      return run.catch((err: Error) => err);
    }),
  );
}

export async function processDelivery(
  deps: DeliveryDeps,
  queueJobId: string,
  data: DeliveryJobData,
  workerLock: number | null = null,
): Promise<DeliveryOutcome> {
  const fast = await claimFast(deps.stateSql ?? deps.database.sql, data.deliveryId, queueJobId, workerLock);
  if (fast) return attempt(deps, fast, queueJobId);

  // The slow path: find out why the claim did not go through, and act on it.
  const db = deps.database.db;
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, data.deliveryId));
  if (!row || row.status !== 'PENDING' || leaseOf(row) !== queueJobId) return 'stale';
  const isTest = row.eventType === TEST_EVENT_TYPE;

  if (row.attempts > 0 && row.nextAttemptAt === null) {
    const lost: SendResult = {
      ok: false,
      statusCode: null,
      latencyMs: Math.max(0, Date.now() - row.updatedAt.getTime()),
      retryAfterSeconds: null,
      error: 'no outcome recorded: the worker stopped during this attempt (crash, kill or lost database); the receiver may or may not have received it',
      responseBodySnippet: null,
      gone: false,
    };
    deps.log.warn({ deliveryId: row.id, attempt: row.attempts }, 'webhook attempt lost with its worker; continuing');
    return recordFailure(deps, claimOf(row, { url: row.url, attempt: row.attempts, endpointId: null, secrets: [] }), queueJobId, lost, { lost: true });
  }

  let endpoint: EndpointRow | null = null;
  let url = row.url;
  if (!isJobTarget(row)) {
    [endpoint = null] = row.endpointId ? await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, row.endpointId)) : [];
    if (!endpoint) return finishUnsent(deps, row, queueJobId, 'The endpoint was deleted before this delivery was sent.');
    if (!endpoint.enabled && !isTest) {
      return finishUnsent(
        deps,
        row,
        queueJobId,
        `The endpoint is disabled (${endpoint.disabledReason ?? 'by its owner'}); enable it, then use redeliverWebhook.`,
      );
    }
    url = endpoint.url;
    // A test event goes through whatever the circuit says: it is how an integrator checks a fix.
    if (!isTest) {
      const wait = await passCircuit(deps, { kind: 'endpoint', endpointId: endpoint.id }, circuitOf(endpoint));
      if (wait) return waitForCircuit(deps, row, queueJobId, wait);
    }
  } else {
    const target: CircuitTarget = { kind: 'url', ownerId: row.ownerId, url: row.url };
    const wait = await passCircuit(deps, target, await readCircuit(db, target));
    if (wait) return waitForCircuit(deps, row, queueJobId, wait);
  }

  const [claimed] = await db
    .update(webhookDeliveries)
    .set({ attempts: row.attempts + 1, nextAttemptAt: null, url, workerLock, updatedAt: sql`now()` })
    .where(and(guard(row.id, queueJobId, row.attempts), or(isNotNull(webhookDeliveries.nextAttemptAt), eq(webhookDeliveries.attempts, 0))))
    .returning({ attempts: webhookDeliveries.attempts });
  if (!claimed) return 'stale';
  const secrets = endpoint ? activeSecrets(endpoint.secret, endpoint.previousSecret, endpoint.previousSecretExpiresAt) : await signingSecretsFor(db, row);
  return attempt(deps, claimOf(row, { url, attempt: claimed.attempts, endpointId: endpoint?.id ?? null, secrets }), queueJobId);
}

/** Signs with a fresh timestamp, sends the stored body as is, and records what happened. */
/** The event's time, from the payload's "createdAt" (read without parsing the whole body). */
function eventTime(body: string): number | null {
  const at = body.indexOf('"createdAt":"');
  if (at < 0) return null;
  const time = Date.parse(body.slice(at + 13, body.indexOf('"', at + 13)));
  return Number.isFinite(time) ? time : null;
}

async function attempt(deps: DeliveryDeps, claim: Claim, queueJobId: string): Promise<DeliveryOutcome> {
  const result: SendResult = claim.secrets.length
    ? await sendWebhook({
        url: claim.url,
        body: claim.body,
        headers: signWebhook({ id: claim.eventId, timestamp: new Date(), body: claim.body, secrets: claim.secrets }),
        timeoutMs: deps.settings.timeoutMs,
        allowPrivate: deps.settings.allowPrivate,
        keepAlive: true,
      })
    : {
        ok: false,
        statusCode: null,
        latencyMs: 0,
        retryAfterSeconds: null,
        error: 'no signing secret (the owner was deleted)',
        responseBodySnippet: null,
        gone: false,
      };
  if (!result.ok) return recordFailure(deps, claim, queueJobId, result);
  const success = { claim, statusCode: result.statusCode!, latencyMs: result.latencyMs, responseBodySnippet: result.responseBodySnippet };
  const { delivered, circuitClosed } = deps.recorder
    ? await deps.recorder.record(success)
    : await recordSuccesses(deps.stateSql ?? deps.database.sql, [success]).then((r) => ({
        delivered: r.delivered.has(claim.id),
        circuitClosed: r.closed.size > 0,
      }));
  if (circuitClosed) deps.log.info({ endpointId: claim.endpointId }, 'webhook circuit closed');
  if (delivered && claim.eventType !== TEST_EVENT_TYPE) {
    metrics.webhookDeliveries.inc({ result: 'DELIVERED' });
    const since = eventTime(claim.body);
    if (since !== null) metrics.webhookDeliverySeconds.observe(Math.max(0, Date.now() - since) / 1000);
  }
  return delivered ? 'delivered' : 'stale';
}

/** A circuit as logs show it: a job's webhookUrl by its origin only (its path or query may hold a token). */
const loggedTarget = (target: CircuitTarget) => (target.kind === 'url' ? { ...target, url: urlOrigin(target.url) } : target);

/** Null when the delivery may go now (and, if it is the probe, the probe is ours); else when to look again. */
async function passCircuit(deps: DeliveryDeps, target: CircuitTarget, circuit: CircuitState | null): Promise<Date | null> {
  const options = { cooldownSeconds: deps.settings.cooldownSeconds };
  let current = circuit;
  for (let tries = 0; tries < 3; tries++) {
    if (!current) return null; // the endpoint was deleted meanwhile: the claim below still works; the next run sees it
    const decision = canSend(current, new Date(), options);
    if (!decision.send) return decision.waitUntil;
    if (!decision.probe || (await claimProbe(deps.database.db, target, current, decision.next))) {
      if (decision.probe) deps.log.info({ circuit: loggedTarget(target) }, 'webhook circuit half-open: sending the probe');
      return null;
    }
    // Another worker changed the circuit first (took the probe, or a success closed it): look again.
    current = await readCircuit(deps.database.db, target);
  }
  return new Date(Date.now() + deps.settings.cooldownSeconds * 1000);
}

/** Hands the lease to a new queue job that starts at `at`, in the caller's transaction. */
/** The attempt a run is about to make (or has lost) of the delivery in `row`. */
function claimOf(row: DeliveryRow, attempt: Pick<Claim, 'url' | 'attempt' | 'endpointId' | 'secrets'>): Claim {
  return { id: row.id, ownerId: row.ownerId, eventId: row.eventId, eventType: row.eventType, body: row.body, ...attempt };
}

async function scheduleNext(
  tx: DbOrTx,
  deps: DeliveryDeps,
  deliveryId: string,
  queueJobId: string,
  attempts: number,
  at: Date,
  extra: Partial<DeliveryRow> = {},
) {
  const next = randomUUID();
  const moved = await tx
    .update(webhookDeliveries)
    .set({ ...extra, nextAttemptAt: at, queueJobId: next, updatedAt: sql`now()` })
    .where(guard(deliveryId, queueJobId, attempts))
    .returning({ id: webhookDeliveries.id });
  if (!moved.length) return false;
  await sendInTx(deps.boss, tx, QUEUES.webhookDelivery, { deliveryId } satisfies DeliveryJobData, { id: next, startAfter: at });
  return true;
}

async function reschedule(deps: DeliveryDeps, row: DeliveryRow, queueJobId: string, at: Date): Promise<DeliveryOutcome> {
  const moved = await deps.database.db.transaction((tx) => scheduleNext(tx, deps, row.id, queueJobId, row.attempts, at));
  return moved ? 'waiting' : 'stale';
}

/**
 * Held back by an open circuit: the delivery waits for the probe's time without using an attempt, a
 * little after it (the deliveries waiting on one circuit do not all wake at the same instant), and is
 * given up once it is WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS past its event: a receiver down for that long
 * must not keep deliveries PENDING (and out of redeliverWebhook's reach) forever.
 */
async function waitForCircuit(deps: DeliveryDeps, row: DeliveryRow, queueJobId: string, until: Date): Promise<DeliveryOutcome> {
  const maxWait = deps.settings.circuitMaxWaitSeconds;
  const deadline = row.createdAt.getTime() + maxWait * 1000;
  // Within a second of it is past it: the deadline is the database's clock, this the worker's, and a
  // wake-up pg-boss already sees as due must not be put off again and again.
  if (Date.now() >= deadline - 1000) {
    return finishUnsent(
      deps,
      row,
      queueJobId,
      `Given up: the receiver's circuit was still open ${waitText(maxWait)} after the event (WEBHOOK_CIRCUIT_MAX_WAIT_SECONDS). ` +
        'Once the receiver accepts deliveries again (sendTestWebhook tells), use redeliverWebhook.',
    );
  }
  const spread = Math.min(deps.settings.cooldownSeconds * 100, 10_000) * Math.random(); // up to 10% of a cool-down, 10 s at most
  return reschedule(deps, row, queueJobId, new Date(Math.min(until.getTime() + spread, deadline)));
}

const waitText = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : `${seconds} second${seconds === 1 ? '' : 's'}`;

async function finishUnsent(deps: DeliveryDeps, row: DeliveryRow, queueJobId: string, reason: string): Promise<DeliveryOutcome> {
  const done = await deps.database.db
    .update(webhookDeliveries)
    .set({ status: 'FAILED', errorCode: WEBHOOK_DELIVERY_FAILED, lastError: reason, nextAttemptAt: null, updatedAt: sql`now()` })
    .where(guard(row.id, queueJobId, row.attempts))
    .returning({ id: webhookDeliveries.id });
  if (done.length) deps.log.warn({ deliveryId: row.id, reason }, 'webhook delivery failed without an attempt');
  if (done.length) metrics.webhookDeliveries.inc({ result: 'FAILED' });
  return done.length ? 'failed' : 'stale';
}

/**
 * A failed attempt, in one transaction: its log row; then the next attempt (a new queue job that takes
 * the lease, after the backoff or Retry-After), or FAILED with WEBHOOK_DELIVERY_FAILED once the
 * attempts are used up or the receiver answered 410 (which also disables an endpoint); and the
 * endpoint's circuit, which may open.
 */
async function recordFailure(
  deps: DeliveryDeps,
  claim: Claim,
  queueJobId: string,
  result: SendResult,
  opts: { lost?: boolean } = {},
): Promise<DeliveryOutcome> {
  const log = deps.log.child({ deliveryId: claim.id, eventId: claim.eventId, attempt: claim.attempt });
  const isTest = claim.eventType === TEST_EVENT_TYPE;
  const maxAttempts = isTest ? 1 : 1 + deps.settings.maxRetries;
  const last = { lastStatusCode: result.statusCode, lastError: result.error };
  return deps.database.db.transaction(async (tx) => {
    const logRow = {
      deliveryId: claim.id,
      attempt: claim.attempt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: result.error,
      responseSnippet: result.responseBodySnippet,
    };
    // One row per attempt. A real outcome replaces a "lost" entry written by a worker that presumed
    // this one dead; a "lost" entry never replaces anything.
    const target = [webhookDeliveryAttempts.deliveryId, webhookDeliveryAttempts.attempt];
    const insert = tx.insert(webhookDeliveryAttempts).values(logRow);
    await (opts.lost ? insert.onConflictDoNothing({ target }) : insert.onConflictDoUpdate({ target, set: { ...logRow, at: sql`now()` } }));

    let outcome: DeliveryOutcome;
    if (!result.gone && claim.attempt < maxAttempts) {
      // An attempt lost with its worker says nothing about the receiver: try again at once.
      const delay = opts.lost
        ? 0
        : webhookRetryDelaySeconds(claim.attempt, result.retryAfterSeconds, {
            baseSeconds: deps.settings.retryBaseSeconds,
            maxSeconds: deps.settings.retryMaxSeconds,
          });
      const at = new Date(Date.now() + delay * 1000);
      outcome = (await scheduleNext(tx, deps, claim.id, queueJobId, claim.attempt, at, last)) ? 'retry-scheduled' : 'stale';
      if (outcome === 'retry-scheduled') log.info({ error: result.error, retryInSeconds: delay }, 'webhook attempt failed; retry scheduled');
    } else {
      const done = await tx
        .update(webhookDeliveries)
        .set({ status: 'FAILED', errorCode: WEBHOOK_DELIVERY_FAILED, nextAttemptAt: null, ...last, updatedAt: sql`now()` })
        .where(guard(claim.id, queueJobId, claim.attempt))
        .returning({ id: webhookDeliveries.id });
      outcome = done.length ? 'failed' : 'stale';
      if (done.length) log.warn({ error: result.error, attempts: claim.attempt }, 'webhook delivery failed: giving up');
      // A test event is an integrator checking a receiver, often one not ready yet: not an alert's concern.
      if (done.length && !isTest) metrics.webhookDeliveries.inc({ result: 'FAILED' });
    }

    if (claim.endpointId && result.gone) {
      const reason = `The receiver answered 410 Gone at ${new Date().toISOString()} (delivery ${publicDeliveryId(claim.id)}); enable the endpoint again once it accepts deliveries.`;
      const [disabled] = await tx
        .update(webhookEndpoints)
        .set({ enabled: false, disabledReason: reason, updatedAt: sql`now()` })
        .where(and(eq(webhookEndpoints.id, claim.endpointId), eq(webhookEndpoints.enabled, true)))
        .returning();
      // Told once, when it happens; later 410s of deliveries already in flight change nothing.
      if (disabled) {
        await raiseAlert(tx, {
          kind: 'WEBHOOK_ENDPOINT_DISABLED',
          code: WEBHOOK_DELIVERY_FAILED,
          ownerId: disabled.ownerId,
          endpointId: disabled.id,
          message: `Webhook endpoint ${disabled.id} (${urlOrigin(disabled.url)}) answered 410 Gone to delivery ${publicDeliveryId(claim.id)}: it has been disabled and receives no more events.`,
          nextStep:
            'If the receiver moved, point the endpoint at its new URL (updateWebhookEndpoint); once it accepts deliveries again, ' +
            'enableWebhookEndpoint, then redeliverWebhook for the events it missed. If it is gone for good, deleteWebhookEndpoint.',
          data: { urlOrigin: urlOrigin(disabled.url), deliveryId: publicDeliveryId(claim.id) },
        });
        log.warn({ endpointId: claim.endpointId }, 'webhook endpoint disabled: 410 Gone');
      }
    } else if (!isTest && !opts.lost) {
      // A failed test event, or an attempt lost with its worker, says nothing new about a circuit.
      const target: CircuitTarget = claim.endpointId
        ? { kind: 'endpoint', endpointId: claim.endpointId }
        : { kind: 'url', ownerId: claim.ownerId, url: claim.url };
      const circuit = await recordCircuitResult(tx, target, false, {
        options: { failureThreshold: deps.settings.failureThreshold, cooldownSeconds: deps.settings.cooldownSeconds },
        timeoutMs: deps.settings.timeoutMs,
      });
      if (circuit.opened) log.warn({ circuit: loggedTarget(target), state: circuit.state }, 'webhook circuit opened');
    }
    return outcome;
  });
}
