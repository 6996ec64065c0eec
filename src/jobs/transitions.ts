// The job state machine. Every change of a job's state is one transaction here, appending its event.
// Writes made by a worker are guarded by the attempt number it started with, so a stale attempt
// (its worker presumed dead, or the job cancelled) can never overwrite a newer one's state.
//
//   QUEUED ──start──► PROCESSING ──► COMPLETED
//     ▲                   │ ├──────► FAILED      (permanent error, or retries used up)
//     └──retry scheduled──┘ ├──────► TIMED_OUT   (deadline passed; never retried automatically)
//   QUEUED/PROCESSING ──cancelJob──► CANCELLED
//   FAILED/TIMED_OUT/CANCELLED ──retryJob──► QUEUED   (finished stages are kept)
import { randomUUID } from 'node:crypto';
import { metrics } from '../metrics/index';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PgBoss } from 'pg-boss';
import type { Db, DbOrTx } from '../db/client';
import { jobs, jobStages } from '../db/schema/index';
import { alertForFinishedJob, raiseAlert } from '../alerts/alerts';
import { enqueueJobWebhooks } from '../webhooks/events';
import type { OutputFileWithUrl } from '../downloads/urls';
import { chargeCredits, releaseCredits } from './credits';
import { appendJobEvent } from './events';
import { ACTIVE_STATUSES, type JobStatus, type TerminalStatus } from './status';
import type { JobErrorShape } from '../errors/app-errors';
import type { OutputFile } from '../pipeline/types';
import type { JobRow } from '../db/schema/index';

/** Guard of a worker's write: the job is still PROCESSING under this attempt. */
function mine(jobId: string, attempt: number) {
  return and(eq(jobs.id, jobId), eq(jobs.attempt, attempt), eq(jobs.status, 'PROCESSING'));
}

export class AttemptSupersededError extends Error {
  constructor(jobId: string, attempt: number) {
    super(`attempt ${attempt} of job ${jobId} no longer owns the job`);
  }
}

/**
 * A worker takes the job: attempt + 1, PROCESSING, deadline fixed at the first start. Null when the
 * job is already finished (cancelled while queued, timed out…): there is nothing to run.
 */
export async function startAttempt(db: Db, jobId: string, queueJobId: string, data: Record<string, unknown>, workerLock: number) {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).for('update');
    if (!before || !(ACTIVE_STATUSES as readonly string[]).includes(before.status)) return null;
    // A queue job the job has moved on from (handed to a new one at a worker's shutdown, while pg-boss
    // retried the old one too) must not start a second attempt beside the current one.
    if (before.queueJobId && before.queueJobId !== queueJobId) return null;
    const [row] = await tx
      .update(jobs)
      .set({
        status: 'PROCESSING',
        attempt: sql`${jobs.attempt} + 1`,
        workerLock,
        startedAt: sql`coalesce(${jobs.startedAt}, now())`,
        deadlineAt: sql`coalesce(${jobs.deadlineAt}, now() + ${jobs.timeoutSeconds} * interval '1 second')`,
        updatedAt: sql`now()`,
      })
      .where(eq(jobs.id, jobId))
      .returning();
    const recovered = before.status === 'PROCESSING';
    await appendJobEvent(tx, jobId, {
      type: 'STARTED',
      status: 'PROCESSING',
      progress: row.progress,
      data: {
        ...data,
        attempt: row.attempt,
        maxAttempts: row.maxAttempts,
        ...(recovered
          ? { recovered: true, note: 'the previous attempt stopped without finishing (worker crashed or lost); resuming at the first unfinished stage' }
          : {}),
      },
    });
    const stages = await tx.select().from(jobStages).where(eq(jobStages.jobId, jobId)).orderBy(jobStages.position);
    return { job: row, stages };
  });
}

export async function markStageStarted(db: Db, job: JobRow, stage: string) {
  await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(jobs)
      .set({ stage, updatedAt: sql`now()` })
      .where(mine(job.id, job.attempt))
      .returning({ progress: jobs.progress });
    if (!updated) throw new AttemptSupersededError(job.id, job.attempt);
    await tx
      .update(jobStages)
      .set({ status: 'RUNNING', attempts: sql`${jobStages.attempts} + 1`, progress: 0, startedAt: sql`now()`, finishedAt: null, error: null })
      .where(and(eq(jobStages.jobId, job.id), eq(jobStages.name, stage)));
    await appendJobEvent(tx, job.id, { type: 'STAGE_STARTED', status: 'PROCESSING', progress: updated.progress, stage, data: { attempt: job.attempt } });
  });
}

export async function recordProgress(db: Db, job: JobRow, stage: string, stageProgress: number, jobProgress: number) {
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(jobs)
      .set({ progress: jobProgress, updatedAt: sql`now()` })
      .where(mine(job.id, job.attempt))
      .returning({ id: jobs.id });
    if (!updated.length) throw new AttemptSupersededError(job.id, job.attempt);
    await tx
      .update(jobStages)
      .set({ progress: stageProgress })
      .where(and(eq(jobStages.jobId, job.id), eq(jobStages.name, stage)));
    await appendJobEvent(tx, job.id, { type: 'PROGRESS', status: 'PROCESSING', progress: jobProgress, stage, data: { stageProgress } });
  });
}

/** Checkpoints a finished (or skipped) stage: a later attempt resumes after it. */
export async function markStageFinished(
  db: Db,
  job: JobRow,
  stage: string,
  result: { status: 'COMPLETED' | 'SKIPPED'; output: Record<string, unknown> | null; files: OutputFile[]; jobProgress: number; data?: Record<string, unknown> },
) {
  await db.transaction(async (tx) => {
    const updated = await tx
      .update(jobs)
      .set({ progress: result.jobProgress, updatedAt: sql`now()` })
      .where(mine(job.id, job.attempt))
      .returning({ id: jobs.id });
    if (!updated.length) throw new AttemptSupersededError(job.id, job.attempt);
    await tx
      .update(jobStages)
      .set({ status: result.status, progress: 1, finishedAt: sql`now()`, output: result.output, files: result.files, error: null })
      .where(and(eq(jobStages.jobId, job.id), eq(jobStages.name, stage)));
    await appendJobEvent(tx, job.id, {
      type: 'STAGE_COMPLETED',
      status: 'PROCESSING',
      progress: result.jobProgress,
      stage,
      data: { stageStatus: result.status, ...result.data },
    });
  });
}

/**
 * A transient failure: pg-boss will run the job again after a backoff; the failed stage is kept as FAILED
 * until then. With `handOver` the job is not the one that failed (its worker was shut down): it goes to
 * a new queue job, due now, which `handOver` enqueues in the same transaction, and the attempt it lost
 * is given back (maxAttempts + 1), so a deploy never uses up a job's retries.
 */
export async function scheduleRetry(
  db: Db,
  job: JobRow,
  error: JobErrorShape,
  data: Record<string, unknown>,
  handOver?: (tx: DbOrTx, job: JobRow) => Promise<void>,
) {
  const scheduled = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(jobs)
      .set({
        status: 'QUEUED',
        stage: null,
        error,
        updatedAt: sql`now()`,
        ...(handOver ? { queueJobId: randomUUID(), maxAttempts: sql`${jobs.maxAttempts} + 1` } : {}),
      })
      .where(mine(job.id, job.attempt))
      .returning();
    if (!updated) return false;
    if (handOver) await handOver(tx, updated);
    if (error.stage) {
      await tx
        .update(jobStages)
        .set({ status: 'FAILED', error, finishedAt: sql`now()` })
        .where(and(eq(jobStages.jobId, job.id), eq(jobStages.name, error.stage)));
    }
    await appendJobEvent(tx, job.id, { type: 'RETRY_SCHEDULED', status: 'QUEUED', progress: job.progress, stage: error.stage, error, data });
    return true;
  });
  if (scheduled) metrics.jobRetries.inc({ stage: error.stage ?? 'none', code: error.code });
  return scheduled;
}

export interface FinishOptions {
  status: TerminalStatus;
  error?: JobErrorShape | null;
  /** Worker writes pass their attempt; API writes (cancel) pass none. */
  attempt?: number;
  from: readonly JobStatus[];
  data?: Record<string, unknown>;
  /** A COMPLETED job's files with their download URLs, for the job.completed webhook (downloads/urls.ts). */
  output?: { files: OutputFileWithUrl[] };
}

/**
 * Ends a job: status, credits settled or released, stages tidied, terminal event, webhook deliveries
 * enqueued: all in one transaction, so a crash can neither lose the webhooks nor double them.
 */
export async function finishJob(db: Db, boss: PgBoss, jobId: string, opts: FinishOptions): Promise<JobRow | null> {
  const finished = await db.transaction(async (tx) => {
    const guard =
      opts.attempt === undefined
        ? and(eq(jobs.id, jobId), inArray(jobs.status, [...opts.from]))
        : and(mine(jobId, opts.attempt), inArray(jobs.status, [...opts.from]));
    const [job] = await tx
      .update(jobs)
      .set({
        status: opts.status,
        error: opts.error ?? null,
        stage: null,
        progress: opts.status === 'COMPLETED' ? 1 : sql`${jobs.progress}`,
        finishedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(guard)
      .returning();
    if (!job) return null;
    await settleStages(tx, job, opts);
    if (opts.status === 'COMPLETED') await chargeCredits(tx, job.ownerId, job.id, job.costCredits);
    else await releaseCredits(tx, job.ownerId, job.id, job.costCredits, `job ${opts.status.toLowerCase()}`);
    const event = await appendJobEvent(tx, job.id, {
      type: opts.status,
      status: opts.status,
      progress: job.progress,
      stage: opts.error?.stage ?? null,
      error: opts.error ?? null,
      data: opts.data,
    });
    await enqueueJobWebhooks(tx, boss, job, event, opts.status === 'COMPLETED' ? opts.output : undefined);
    // TIMED_OUT, and FAILED (permanently or after its retries), tell the operators too.
    const alert = alertForFinishedJob(job, opts.data);
    if (alert) await raiseAlert(tx, alert);
    return job;
  });
  if (finished) metrics.jobs.inc({ pipeline: finished.pipeline, status: finished.status }); // counted once committed
  return finished;
}

async function settleStages(tx: DbOrTx, job: JobRow, opts: FinishOptions) {
  const running = and(eq(jobStages.jobId, job.id), eq(jobStages.status, 'RUNNING'));
  if (opts.status === 'CANCELLED') {
    // A cancelled stage starts over if the job is retried.
    await tx.update(jobStages).set({ status: 'PENDING', progress: 0, startedAt: null }).where(running);
  } else if (opts.status !== 'COMPLETED') {
    await tx
      .update(jobStages)
      .set({ status: 'FAILED', error: opts.error ?? null, finishedAt: sql`now()` })
      .where(running);
  }
}
