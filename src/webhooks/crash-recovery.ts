// A webhook attempt in flight when its worker died is taken up again as soon as PostgreSQL has ended
// the worker's session (its lease is gone, src/db/process-lease.ts), not after missed
// heartbeats: the delivery's lease moves to a new queue job due now, which logs the attempt as lost
// (the receiver may or may not have seen it: the retry carries the same webhook-id) and sends the next
// one at once. Run by every worker process twice a second; only reads while nothing has crashed.
import { leaseHeldSql } from '../db/process-lease';
import { QUEUES } from '../queue/queues';
import type { Services } from '../services';
import { leaseToNewQueueJob } from './housekeeping';

export async function resumeOrphanedDeliveries(services: Services): Promise<string[]> {
  const { database, boss, log } = services;
  const orphaned = await database.sql<{ id: string; lease: string; worker_lock: number }[]>`
    select id, coalesce(queue_job_id, id) as lease, worker_lock from webhook_deliveries
    where status = 'PENDING' and next_attempt_at is null and worker_lock is not null
      and not (${database.sql.unsafe(leaseHeldSql('worker_lock'))})`;
  const resumed: string[] = [];
  for (const row of orphaned) {
    if (!(await leaseToNewQueueJob(services, row.id, row.lease, row.worker_lock))) continue;
    // The dead run's queue job would otherwise stay active until its heartbeat lapses.
    await boss.cancel(QUEUES.webhookDelivery, row.lease).catch(() => {});
    resumed.push(row.id);
  }
  if (resumed.length) log.warn({ deliveries: resumed }, 'webhook attempts orphaned by a dead worker: handed on');
  return resumed;
}
