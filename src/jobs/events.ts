// The job's append-only log. Every change of a job appends one event with the job's next sequence
// (1, 2, 3… no gaps, assigned under the job row's lock) and a NOTIFY that every API process hears.
import { sql } from 'drizzle-orm';
import { TERMINAL_STATUSES } from './status';
import type { DbOrTx } from '../db/client';
import type { JobErrorShape } from '../errors/app-errors';
import type { JobEventRow } from '../db/schema/index';

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

/** A job's terminal events are named after its terminal statuses. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<JobEventType> = new Set(TERMINAL_STATUSES);

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
  error?: JobErrorShape | null;
  data?: Record<string, unknown>;
}

/**
 * Appends an event. Call inside the transaction that changed the job, so both commit together.
 * One statement takes the next sequence under the job row's lock, inserts the event and sends the
 * NOTIFY: a round trip instead of three, on every change of every job (submit → STARTED latency).
 */
export async function appendJobEvent(tx: DbOrTx, jobId: string, event: NewJobEvent): Promise<JobEventRow> {
  const json = (value: unknown) => (value == null ? null : JSON.stringify(value));
  const rows = await tx.execute<Record<string, unknown>>(sql`
    with next as (
      update jobs set last_sequence = last_sequence + 1 where id = ${jobId} returning last_sequence, owner_id
    ), inserted as (
      insert into job_events (job_id, owner_id, sequence, type, status, progress, stage, error, data)
      select ${jobId}, owner_id, last_sequence, ${event.type}, ${event.status}, ${event.progress}, ${event.stage ?? null},
             ${json(event.error)}::jsonb, ${json(event.data)}::jsonb
      from next
      returning *
    )
    select inserted.*, pg_notify(${JOB_EVENTS_CHANNEL},
      json_build_object('jobId', job_id, 'ownerId', owner_id, 'sequence', sequence, 'type', type)::text) is null as notified
    from inserted`);
  const [row] = rows as unknown as Array<Record<string, unknown>>;
  if (!row) throw new Error(`appendJobEvent: job ${jobId} does not exist`);
  return {
    id: Number(row.id),
    jobId: row.job_id as string,
    ownerId: row.owner_id as string,
    sequence: row.sequence as number,
    type: row.type as string,
    status: row.status as string,
    progress: row.progress as number,
    stage: (row.stage as string | null) ?? null,
    error: (row.error as JobErrorShape | null) ?? null,
    data: (row.data as Record<string, unknown> | null) ?? null,
    at: row.at instanceof Date ? row.at : new Date(row.at as string),
  };
}
