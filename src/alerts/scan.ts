// The scheduled scan for jobs stuck in QUEUED: a job that has waited for a worker longer than
// QUEUED_ALERT_SECONDS raises one JOB_STUCK_QUEUED alert (once per job, however often the scan runs
// and however many workers run it: the scan holds a transaction-level advisory lock).
//
// "Waiting since" is the job's updated_at: set when it was submitted and again whenever it went back
// to QUEUED (an automatic retry, retryJob), and untouched while it waits.
import { and, eq, lt, notExists, sql } from 'drizzle-orm';
import { alerts, jobs } from '../db/schema/index';
import type { Services } from '../services';
import { servedPipelines } from '../jobs/worker-registry';
import { raiseAlert, stuckQueuedAlert } from './alerts';

const SCAN_LOCK = 'vidq:stuck-queued-scan';
const MAX_PER_SCAN = 500;

export async function raiseStuckQueuedAlerts(services: Services): Promise<number> {
  const limit = services.config.queuedAlertSeconds;
  return services.database.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${SCAN_LOCK}))`);
    const stuck = await tx
      .select({ job: jobs, waitedSeconds: sql<number>`extract(epoch from now() - ${jobs.updatedAt})`.mapWith(Number) })
      .from(jobs)
      .where(
        and(
          eq(jobs.status, 'QUEUED'),
          lt(jobs.updatedAt, sql`now() - ${limit} * interval '1 second'`),
          notExists(
            tx
              .select({ one: sql`1` })
              .from(alerts)
              .where(and(eq(alerts.jobId, jobs.id), eq(alerts.kind, 'JOB_STUCK_QUEUED'))),
          ),
        ),
      )
      .orderBy(jobs.updatedAt)
      .limit(MAX_PER_SCAN);
    const served = stuck.length ? await servedPipelines(services) : new Set<string>();
    for (const { job, waitedSeconds } of stuck) {
      await raiseAlert(tx, stuckQueuedAlert(job, Math.round(waitedSeconds), limit, served.has(job.pipeline)));
    }
    if (stuck.length) services.log.warn({ jobs: stuck.map((s) => s.job.id) }, 'jobs stuck in QUEUED: alerts raised');
    return stuck.length;
  });
}
