// The statements of a delivery's common path. Most of a delivery's cost is talking to PostgreSQL, so
// they work on sets: one statement claims every delivery of a fetched batch, and successes that come
// back together are recorded together. Everything unusual (a lost attempt, an open circuit, a disabled
// or deleted endpoint, a failure) goes through delivery-run.ts's slower, step-by-step path.
import type { Sql } from '../db/client';
import { activeSecrets, JOB_TARGET, TEST_EVENT_TYPE } from './events';

export interface Claim {
  id: string;
  ownerId: string;
  eventId: string;
  eventType: string;
  body: string;
  url: string;
  /** The attempt just claimed (1 for the first). */
  attempt: number;
  /** Set for an endpoint's delivery: its circuit and its 410 handling apply. */
  endpointId: string | null;
  secrets: string[];
}

interface ClaimRow {
  id: string;
  owner_id: string;
  lease: string;
  event_id: string;
  event_type: string;
  body: string;
  url: string;
  attempts: number;
  endpoint_id: string | null;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_expires_at: string | Date | null;
  webhook_secret: string;
  previous_webhook_secret: string | null;
  previous_webhook_secret_expires_at: string | Date | null;
}

// Timestamps arrive as strings on drizzle's pool (it tells postgres.js not to parse them), as Dates elsewhere.
const date = (v: string | Date | null) => (v === null ? null : new Date(v));

/**
 * Claims the next attempt of each delivery when nothing stands in its way: PENDING, leased to the given
 * queue job, not in flight, and going to the job's own URL or to an existing endpoint that is enabled
 * with a closed circuit (a test event ignores both). A delivery missing from the result takes the slow
 * path; that does not mean it is stale. The guard is repeated in the UPDATE itself, which PostgreSQL
 * re-checks after any concurrent change, so no two workers ever claim the same attempt. The result is
 * keyed by queue job id (the lease), never by delivery: a stale queue job never gets another's claim.
 */
export async function claimBatch(sql: Sql, items: Array<{ deliveryId: string; queueJobId: string }>, workerLock: number | null): Promise<Map<string, Claim>> {
  if (!items.length) return new Map();
  const rows = await sql<ClaimRow[]>`
    with input as (
      select * from unnest(${items.map((i) => i.deliveryId)}::uuid[], ${items.map((i) => i.queueJobId)}::uuid[]) as i(id, lease)
    ), target as (
      select d.id, i.lease, d.attempts as seen_attempts, e.id as endpoint_id, e.url as endpoint_url,
             e.secret, e.previous_secret, e.previous_secret_expires_at,
             u.webhook_secret, u.previous_webhook_secret, u.previous_webhook_secret_expires_at
      from input i
      join webhook_deliveries d on d.id = i.id
      join users u on u.id = d.owner_id
      left join webhook_endpoints e on e.id = d.endpoint_id and split_part(d.target_key, '#', 1) <> ${JOB_TARGET}
      left join webhook_url_circuits c on c.owner_id = d.owner_id and c.url = d.url and split_part(d.target_key, '#', 1) = ${JOB_TARGET}
      where (split_part(d.target_key, '#', 1) = ${JOB_TARGET} and (c.owner_id is null or c.circuit_state = 'CLOSED'))
         or (e.id is not null and (d.event_type = ${TEST_EVENT_TYPE} or (e.enabled and e.circuit_state = 'CLOSED')))
    )
    update webhook_deliveries d
    set attempts = d.attempts + 1, next_attempt_at = null, url = coalesce(t.endpoint_url, d.url), worker_lock = ${workerLock}, updated_at = now()
    from target t
    where d.id = t.id and d.status = 'PENDING' and coalesce(d.queue_job_id, d.id) = t.lease
      and d.attempts = t.seen_attempts and (d.next_attempt_at is not null or d.attempts = 0)
    returning d.id, d.owner_id, t.lease, d.event_id, d.event_type, d.body, d.url, d.attempts, t.endpoint_id,
              t.secret, t.previous_secret, t.previous_secret_expires_at,
              t.webhook_secret, t.previous_webhook_secret, t.previous_webhook_secret_expires_at`;
  return new Map(
    rows.map((row) => [
      row.lease,
      {
        id: row.id,
        ownerId: row.owner_id,
        eventId: row.event_id,
        eventType: row.event_type,
        body: row.body,
        url: row.url,
        attempt: row.attempts,
        endpointId: row.endpoint_id,
        secrets: row.endpoint_id
          ? activeSecrets(row.secret!, row.previous_secret, date(row.previous_secret_expires_at))
          : activeSecrets(row.webhook_secret, row.previous_webhook_secret, date(row.previous_webhook_secret_expires_at)),
      },
    ]),
  );
}

export async function claimFast(sql: Sql, deliveryId: string, queueJobId: string, workerLock: number | null): Promise<Claim | null> {
  return (await claimBatch(sql, [{ deliveryId, queueJobId }], workerLock)).get(queueJobId) ?? null;
}

export interface Success {
  claim: Claim;
  statusCode: number;
  latencyMs: number;
  responseBodySnippet: string | null;
}

/**
 * 2xx answers: each attempt's log row, DELIVERED, and a closed circuit for their endpoints (or their
 * job's webhookUrl), in one
 * statement (atomic without a transaction). A success is a fact whatever happened meanwhile, so it is
 * accepted while the delivery is PENDING. Returns the deliveries it marked and the circuits it closed.
 */
export async function recordSuccesses(sql: Sql, successes: Success[]): Promise<{ delivered: Set<string>; closed: Set<string> }> {
  const col = <T>(f: (s: Success) => T) => successes.map(f);
  const [row] = await sql<{ delivered: string[] | null; closed: string[] | null }[]>`
    with input as (
      select * from unnest(
        ${col((s) => s.claim.id)}::uuid[], ${col((s) => s.claim.attempt)}::int[], ${col((s) => s.statusCode)}::int[],
        ${col((s) => s.latencyMs)}::int[], ${col((s) => s.responseBodySnippet)}::text[], ${col((s) => s.claim.endpointId)}::text[],
        ${col((s) => s.claim.ownerId)}::text[], ${col((s) => s.claim.url)}::text[]
      ) as i(id, attempt, status_code, latency_ms, snippet, endpoint_id, owner_id, url)
    ), log as (
      insert into webhook_delivery_attempts (delivery_id, attempt, status_code, latency_ms, error, response_snippet)
      select id, attempt, status_code, latency_ms, null, snippet from input
      on conflict (delivery_id, attempt) do update
        set status_code = excluded.status_code, latency_ms = excluded.latency_ms, error = null,
            response_snippet = excluded.response_snippet, at = now()
    ), circuit as (
      update webhook_endpoints e
      set circuit_state = 'CLOSED', consecutive_failures = 0, circuit_opened_at = null, next_probe_at = null, updated_at = now()
      where e.id in (select endpoint_id from input) and (e.circuit_state <> 'CLOSED' or e.consecutive_failures <> 0)
      returning e.id
    ), url_circuit as (
      -- A job's webhookUrl: no row is a closed, clean circuit.
      delete from webhook_url_circuits c
      using input i
      where i.endpoint_id is null and c.owner_id = i.owner_id and c.url = i.url
      returning c.url
    ), done as (
      update webhook_deliveries d
      set status = 'DELIVERED', delivered_at = now(), next_attempt_at = null, error_code = null,
          last_status_code = i.status_code, last_error = null, updated_at = now()
      from input i
      where d.id = i.id and d.status = 'PENDING'
      returning d.id
    )
    select (select array_agg(id) from done) as delivered, (select array_agg(id) from circuit) as closed`;
  // A delivery missing from `delivered` was finished by someone else meanwhile (a presumed-dead attempt
  // that was not); its log row and the circuit's update still landed (data-modifying CTEs always run).
  return { delivered: new Set(row.delivered ?? []), closed: new Set(row.closed ?? []) };
}

/**
 * Gathers the successes that come back in the same turn of the event loop into one recordSuccesses
 * statement: under load many answers arrive together, and each statement is a commit. The wait is one
 * tick, so the window between a receiver's 2xx and DELIVERED does not grow.
 */
export class SuccessRecorder {
  private pending: Array<{ success: Success; resolve: (r: { delivered: boolean; circuitClosed: boolean }) => void; reject: (e: unknown) => void }> = [];

  constructor(private readonly sql: Sql) {}

  record(success: Success): Promise<{ delivered: boolean; circuitClosed: boolean }> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ success, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(batch = this.pending.splice(0)): Promise<void> {
    try {
      const { delivered, closed } = await recordSuccesses(
        this.sql,
        batch.map((p) => p.success),
      );
      for (const p of batch) {
        const endpointId = p.success.claim.endpointId;
        p.resolve({ delivered: delivered.has(p.success.claim.id), circuitClosed: Boolean(endpointId && closed.delete(endpointId)) });
      }
    } catch (error) {
      // One success that cannot be recorded must not make the others' look lost (they would be sent
      // again): each is recorded alone, and only its own failure is reported.
      if (batch.length > 1) await Promise.all(batch.map((p) => this.flush([p])));
      else for (const p of batch) p.reject(error);
    }
  }
}
