// A job whose worker died is handed on as soon as PostgreSQL has ended the worker's session: its
// liveness lock (src/queue/liveness.ts) is gone. Run by every worker process twice a second; only
// reads while nothing has crashed. The next attempt resumes at the first unfinished stage, as after
// any retry; a crash counts as one of the job's automatic retries (a job that kills its worker every
// time must end, not loop). pg-boss's heartbeat remains the backstop for a worker that is alive but
// cannot reach the database.
import { and, eq } from 'drizzle-orm';
import { jobs } from '../db/schema/index';
import { ERROR_CATALOG } from '../graphql/error-catalog';
import { handBackToQueue } from '../queue/hand-back';
import { livenessHeldSql } from '../queue/liveness';
import { QUEUES } from '../queue/queues';
import type { Services } from '../services';
import { finishJob } from './transitions';

const LOST = 'the worker running this attempt died (its database session ended)';

export async function handOnOrphanedJobs(services: Services): Promise<string[]> {
  const { database, boss, log } = services;
  const orphaned = await database.sql<{ id: string; queue_job_id: string | null; worker_lock: number; attempt: number; stage: string | null }[]>`
    select id, queue_job_id, worker_lock, attempt, stage from jobs
    where status = 'PROCESSING' and worker_lock is not null and not ${database.sql.unsafe(livenessHeldSql('worker_lock'))}`;
  const handed: string[] = [];
  for (const row of orphaned) {
    // One sweep claims the hand-over; the others see the lock column changed and leave it.
    const [claimed] = await database.db
      .update(jobs)
      .set({ workerLock: null })
      .where(and(eq(jobs.id, row.id), eq(jobs.status, 'PROCESSING'), eq(jobs.attempt, row.attempt), eq(jobs.workerLock, row.worker_lock)))
      .returning({ id: jobs.id });
    if (!claimed || !row.queue_job_id) continue;
    const outcome = await handBackToQueue(boss, QUEUES.videoProcessing, row.queue_job_id, LOST);
    if (outcome === 'exhausted') {
      await finishJob(database.db, boss, row.id, {
        status: 'FAILED',
        attempt: row.attempt,
        from: ['PROCESSING'],
        error: {
          code: 'SERVICE_UNAVAILABLE',
          message: ERROR_CATALOG.SERVICE_UNAVAILABLE.message,
          detail: `The worker running attempt ${row.attempt} stopped (crash, kill or lost database) and no automatic retries are left; retryJob runs it again from its last finished stage.`,
          stage: row.stage,
          retryable: true,
        },
        data: { retriesExhausted: true, attempts: row.attempt },
      });
    }
    log.warn({ jobId: row.id, attempt: row.attempt, outcome }, 'job orphaned by a dead worker: handed on');
    handed.push(row.id);
  }
  return handed;
}
