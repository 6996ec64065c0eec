// Webhook housekeeping, run by the scheduled maintenance job (src/maintenance.ts):
//   - stranded deliveries: a PENDING delivery whose leasing queue job has ended (its own queue
//     retries used up by repeated errors before it could record anything, or removed) would wait
//     forever. It is handed to a new queue job, which takes it up exactly where it stopped (delivery-run.ts:
//     a lost in-flight attempt is logged as such, then retried or given up as usual);
//   - retention: finished deliveries go after JOB_RETENTION_HOURS, like the jobs they belong to, and
//     so do the circuits of jobs' webhookUrls that nothing is waiting on any more (removeIdleUrlCircuits).
import { randomUUID } from 'node:crypto';
import { and, eq, lt, ne, sql } from 'drizzle-orm';
import { webhookDeliveries } from '../db/schema/index';
import { PGBOSS_SCHEMA, QUEUES } from '../queue/queues';
import { sendInTx } from '../queue/send-in-tx';
import type { Services } from '../services';
import { type DeliveryJobData, JOB_TARGET } from './events';

/** A lease this recently handed over is left alone: its queue job may be a moment from being fetched. */
const STRANDED_AFTER_SECONDS = 60;
const MAX_PER_SWEEP = 500;

/** Finds PENDING deliveries whose queue job is no longer waiting or running, and re-enqueues them. */
export async function resumeStrandedDeliveries(services: Services): Promise<string[]> {
  const { database, log } = services;
  // pg-boss's job table is read directly: one query for the whole sweep instead of one call per row.
  const stranded = await database.sql<{ id: string; lease: string; state: string | null }[]>`
    select d.id, coalesce(d.queue_job_id, d.id) as lease, j.state
    from webhook_deliveries d
    left join ${database.sql(PGBOSS_SCHEMA)}.job j
      on j.name = ${QUEUES.webhookDelivery} and j.id = coalesce(d.queue_job_id, d.id)
    where d.status = 'PENDING'
      and d.updated_at < now() - ${STRANDED_AFTER_SECONDS} * interval '1 second'
      and (j.id is null or j.state in ('completed', 'failed', 'cancelled'))
    order by d.updated_at
    limit ${MAX_PER_SWEEP}`;
  const resumed: string[] = [];
  for (const row of stranded) {
    if (await leaseToNewQueueJob(services, row.id, row.lease)) resumed.push(row.id);
  }
  if (resumed.length) {
    log.warn(
      { deliveries: resumed, queueStates: [...new Set(stranded.map((s) => s.state ?? 'gone'))] },
      'stranded webhook deliveries handed to new queue jobs',
    );
  }
  return resumed;
}

/**
 * Moves a PENDING delivery's lease from `lease` (a queue job that ended, or whose worker died) to a new
 * queue job due now, in one transaction; false when it finished or was re-leased meanwhile. The new
 * job takes it up where it stopped (delivery-run.ts: an attempt in flight is logged as lost, then retried).
 * `workerLock`, when given, must still be the row's: a crash-recovery sweep claims the hand-over with it.
 */
export async function leaseToNewQueueJob(services: Services, deliveryId: string, lease: string, workerLock?: number): Promise<boolean> {
  return services.database.db.transaction(async (tx) => {
    const next = randomUUID();
    const handed = await tx
      .update(webhookDeliveries)
      .set({ queueJobId: next, workerLock: null, updatedAt: sql`now()` })
      .where(
        and(
          eq(webhookDeliveries.id, deliveryId),
          eq(webhookDeliveries.status, 'PENDING'),
          sql`coalesce(${webhookDeliveries.queueJobId}, ${webhookDeliveries.id}) = ${lease}::uuid`,
          workerLock === undefined ? undefined : eq(webhookDeliveries.workerLock, workerLock),
        ),
      )
      .returning({ id: webhookDeliveries.id });
    if (!handed.length) return false;
    await sendInTx(services.boss, tx, QUEUES.webhookDelivery, { deliveryId } satisfies DeliveryJobData, { id: next });
    return true;
  });
}

/**
 * Removes finished deliveries (with their attempt logs) last changed over JOB_RETENTION_HOURS ago: a
 * job's deliveries finish moments after it, so they go with it; test deliveries age out the same way.
 */
export async function removeExpiredDeliveries(services: Services): Promise<number> {
  const { database, config } = services;
  const gone = await database.db
    .delete(webhookDeliveries)
    .where(and(ne(webhookDeliveries.status, 'PENDING'), lt(webhookDeliveries.updatedAt, sql`now() - ${config.jobRetentionHours} * interval '1 hour'`)))
    .returning({ id: webhookDeliveries.id });
  if (gone.length) services.log.info({ count: gone.length }, 'removed webhook deliveries past their retention');
  // Run from here, the maintenance step of retention (src/maintenance.ts), rather than as a step of its own.
  await removeIdleUrlCircuits(services);
  return gone.length;
}

/** A URL circuit that nothing waits on is kept at least this long after its last change (see below). */
const IDLE_URL_CIRCUIT_MIN_SECONDS = 3600;

/**
 * Removes the circuits of jobs' webhookUrls (per owner and URL) with no PENDING delivery of that owner's
 * jobs to that URL, untouched for an hour (or twice the cool-down, when longer). Only a success to the URL
 * removes one otherwise, so the circuit of a URL a customer stopped using, open at its last failure,
 * would stay forever. A circuit with a delivery waiting is never removed: that delivery is what it
 * holds back. The age keeps one through its cool-down (after which its next delivery would be sent at
 * once anyway, as the probe), so a URL that fails, rests and gets a new job soon after still finds its
 * circuit open; past that, a removed circuit only means that the URL's next delivery starts from a
 * closed, clean circuit, which it reopens if the URL still fails. Returns how many it removed.
 */
export async function removeIdleUrlCircuits(services: Services): Promise<number> {
  const { database, config } = services;
  const ageSeconds = Math.max(IDLE_URL_CIRCUIT_MIN_SECONDS, 2 * config.webhookCircuitCooldownSeconds);
  const gone = await database.sql<{ url: string }[]>`
    delete from webhook_url_circuits c
    where c.updated_at < now() - ${ageSeconds} * interval '1 second'
      and not exists (select 1 from webhook_deliveries d
                      where d.owner_id = c.owner_id and d.url = c.url and d.status = 'PENDING'
                        and split_part(d.target_key, '#', 1) = ${JOB_TARGET})
    returning c.url`;
  if (gone.length) services.log.info({ count: gone.length }, "removed circuits of jobs' webhook URLs that no delivery waits on");
  return gone.length;
}
