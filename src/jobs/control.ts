// cancelJob and retryJob: a user's hand on a job's life cycle.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { isUniqueViolation } from '../db/errors';
import { JOBS_ONE_ACTIVE_PER_VIDEO_INDEX, jobs, jobStages } from '../db/schema/index';
import type { Viewer } from '../auth/viewer';
import { InvalidInputError, JobAlreadyProcessingError } from '../errors/app-errors';
import { processingQueue } from '../queue/queues';
import type { Services } from '../services';
import { recordReservation, reserveCredits } from './credits';
import { appendJobEvent } from './events';
import { getVisibleJob } from './queries';
import { enqueueProcessing, timeoutFieldErrors } from './submit';
import { ACTIVE_STATUSES, RETRYABLE_STATUSES } from './status';
import { finishJob } from './transitions';
import type { JobRow } from '../db/schema/index';

/**
 * Stops a queued or running job. A running one's worker notices within a second, kills its ffmpeg and
 * stops; the job keeps its finished stages, and its reserved credits are released.
 */
export async function cancelJob(services: Services, viewer: Viewer, jobId: string): Promise<JobRow> {
  const job = await getVisibleJob(services.database.db, viewer, jobId);
  if (job.status === 'CANCELLED') return job; // cancelling twice is harmless
  const cancelled = await finishJob(services.database.db, services.boss, job.id, {
    status: 'CANCELLED',
    from: ACTIVE_STATUSES,
    data: { cancelledBy: viewer.id, wasStatus: job.status },
  });
  if (!cancelled) {
    const now = await getVisibleJob(services.database.db, viewer, jobId);
    throw new InvalidInputError([{ path: ['id'], message: `job is already ${now.status}; only QUEUED or PROCESSING jobs can be cancelled` }]);
  }
  // Queued: removed from the queue. Running: its worker is told through the claim it loses.
  // The queue job it has now (a worker's shutdown may have handed it to a new one since it was read).
  if (cancelled.queueJobId) await services.boss.cancel(processingQueue(cancelled.pipeline), cancelled.queueJobId).catch(() => {});
  return cancelled;
}

/**
 * Runs a FAILED, TIMED_OUT or CANCELLED job again, reusing the stages it already finished; with
 * `timeoutSeconds`, under that time limit from now on (a job that timed out needs a longer one).
 */
export async function retryJob(services: Services, viewer: Viewer, jobId: string, opts: { timeoutSeconds?: number | null } = {}): Promise<JobRow> {
  const invalid = timeoutFieldErrors(services, opts.timeoutSeconds, ['timeoutSeconds']);
  if (invalid.length) throw new InvalidInputError(invalid);
  const job = await getVisibleJob(services.database.db, viewer, jobId);
  if (!(RETRYABLE_STATUSES as readonly string[]).includes(job.status)) {
    if (job.status === 'QUEUED' || job.status === 'PROCESSING') throw new JobAlreadyProcessingError(job.id, job.videoId);
    throw new InvalidInputError([{ path: ['id'], message: `job is ${job.status}; only FAILED, TIMED_OUT or CANCELLED jobs can be retried` }]);
  }
  const { db } = services.database;
  try {
    return await db.transaction(async (tx) => {
      const [active] = await tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.videoId, job.videoId), inArray(jobs.status, [...ACTIVE_STATUSES]), ne(jobs.id, job.id)));
      if (active) throw new JobAlreadyProcessingError(active.id, job.videoId);
      const balance = await reserveCredits(tx, job.ownerId, job.costCredits);
      await recordReservation(tx, job.ownerId, job.id, job.costCredits, balance);
      const [row] = await tx
        .update(jobs)
        .set({
          status: 'QUEUED',
          error: null,
          stage: null,
          startedAt: null,
          deadlineAt: null,
          finishedAt: null,
          queueJobId: randomUUID(),
          // A fresh set of automatic retries for this run.
          maxAttempts: sql`${jobs.attempt} + ${services.config.jobMaxRetries + 1}`,
          ...(opts.timeoutSeconds != null ? { timeoutSeconds: opts.timeoutSeconds } : {}),
          updatedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, job.id), inArray(jobs.status, [...RETRYABLE_STATUSES])))
        .returning();
      if (!row) throw new JobAlreadyProcessingError(job.id, job.videoId);
      await tx
        .update(jobStages)
        .set({ status: 'PENDING', progress: 0, error: null })
        .where(and(eq(jobStages.jobId, job.id), inArray(jobStages.status, ['FAILED', 'RUNNING'])));
      const kept = await tx
        .select({ name: jobStages.name })
        .from(jobStages)
        .where(and(eq(jobStages.jobId, job.id), inArray(jobStages.status, ['COMPLETED', 'SKIPPED'])));
      await appendJobEvent(tx, job.id, {
        type: 'QUEUED',
        status: 'QUEUED',
        progress: row.progress,
        data: {
          retryOf: job.status,
          retriedBy: viewer.id,
          keptStages: kept.map((k) => k.name),
          costCredits: row.costCredits,
          timeoutSeconds: row.timeoutSeconds,
        },
      });
      await enqueueProcessing(services, tx, row);
      return row;
    });
  } catch (error) {
    // Another run of the video started meanwhile.
    if (isUniqueViolation(error, JOBS_ONE_ACTIVE_PER_VIDEO_INDEX)) throw new JobAlreadyProcessingError(job.id, job.videoId);
    throw error;
  }
}
