// The job's append-only log. Every change of a job appends one event with the job's next sequence
// (1, 2, 3… no gaps, assigned under the job row's lock) and a NOTIFY that every API process hears.
import { eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { jobEvents, jobs, type JobErrorJson } from '../db/schema/index';

export const JOB_EVENTS_CHANNEL = 'vidq_job_events';

export const JOB_EVENT_TYPES = [
  'QUEUED',
  'STARTED',
  'STAGE_STARTED',
  'PROGRESS',
  'STAGE_COMPLETED',
  'RETRY_SCHEDULED',
  'COMPLETED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

export const TERMINAL_EVENT_TYPES: ReadonlySet<JobEventType> = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

/** What travels in the NOTIFY: ids only, the subscriber reads the row (payloads must stay < 8000 bytes). */
export interface JobEventNotice {
  jobId: string;
  ownerId: string;
  sequence: number;
  type: JobEventType;
}


export interface NewJobEvent {
  type: JobEventType;
  status: string;
  progress: number;
  stage?: string | null;
  error?: JobErrorJson | null;
  data?: Record<string, unknown>;
}

/** Appends an event. Call inside the transaction that changed the job, so both commit together. */
export async function appendJobEvent(tx: DbOrTx, jobId: string, event: NewJobEvent) {
  const [job] = await tx
    .update(jobs)
    .set({ lastSequence: sql`${jobs.lastSequence} + 1` })
    .where(eq(jobs.id, jobId))
    .returning({ sequence: jobs.lastSequence, ownerId: jobs.ownerId });
  if (!job) throw new Error(`appendJobEvent: job ${jobId} does not exist`);
  const [row] = await tx
    .insert(jobEvents)
    .values({
      jobId,
      ownerId: job.ownerId,
      sequence: job.sequence,
      type: event.type,
      status: event.status,
      progress: event.progress,
      stage: event.stage ?? null,
      error: event.error ?? null,
      data: event.data ?? null,
    })
    .returning();
  const notice: JobEventNotice = { jobId, ownerId: job.ownerId, sequence: job.sequence, type: event.type };
  await tx.execute(sql`select pg_notify(${JOB_EVENTS_CHANNEL}, ${JSON.stringify(notice)})`);
  return row;
}
