// Processing jobs, their checkpointed stages and their append-only event log.
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, primaryKey, real, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from './users';
import { videos } from './videos';

import type { JobErrorShape } from '../../errors/app-errors';
import type { JobStatus } from '../../jobs/status';
import type { ProcessingOptions } from '../../pipeline/options';
import type { OutputFile } from '../../pipeline/types';

/** A client's idempotency key names one job of theirs. */
export const JOBS_IDEMPOTENCY_INDEX = 'jobs_owner_idempotency_idx';
/** At most one QUEUED or PROCESSING job per video. */
export const JOBS_ONE_ACTIVE_PER_VIDEO_INDEX = 'jobs_one_active_per_video_idx';

export const jobs = pgTable(
  'jobs',
  {
    id: text().primaryKey(), // job_…
    videoId: text()
      .notNull()
      .references(() => videos.id, { onDelete: 'cascade' }),
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** QUEUED PROCESSING COMPLETED FAILED TIMED_OUT CANCELLED */
    status: text().$type<JobStatus>().notNull(),
    stage: text(),
    progress: real().notNull().default(0),
    /** Attempts started so far; every write by a worker is guarded by it. */
    attempt: integer().notNull().default(0),
    maxAttempts: integer().notNull(),
    options: jsonb().$type<ProcessingOptions>().notNull(),
    /** The pipeline it runs (the stage registry's name); its stages are in job_stages. */
    pipeline: text().notNull().default('default'),
    /** The x-request-id of the request that submitted it (for incident reports). */
    requestId: text(),
    /** submitJob's stageOptions, checked against each stage's optionsSchema: { <stage>: { … } }. */
    stageOptions: jsonb().$type<Record<string, Record<string, unknown>>>().notNull().default({}),
    webhookUrl: text(),
    timeoutSeconds: integer().notNull(),
    /** Set when the first attempt starts: a retry past it ends the job TIMED_OUT. */
    deadlineAt: timestamp({ withTimezone: true }),
    costCredits: integer().notNull().default(0),
    /** The pg-boss job that runs this job (a new one for each retryJob). */
    queueJobId: uuid(),
    /**
     * The lease id of the worker running the current attempt (src/db/process-lease.ts): when that
     * lock is gone, the worker is dead and the job is handed on at once.
     */
    workerLock: integer(),
    idempotencyKey: text(),
    error: jsonb().$type<JobErrorShape>(),
    /** Sequence of the last event appended; the next event takes lastSequence + 1. */
    lastSequence: integer().notNull().default(0),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('jobs_owner_created_idx').on(t.ownerId, t.createdAt),
    index('jobs_video_idx').on(t.videoId),
    index('jobs_status_idx').on(t.status),
    uniqueIndex(JOBS_IDEMPOTENCY_INDEX).on(t.ownerId, t.idempotencyKey),
    // At most one active job per video, enforced by the database itself.
    uniqueIndex(JOBS_ONE_ACTIVE_PER_VIDEO_INDEX)
      .on(t.videoId)
      .where(sql`status in ('QUEUED', 'PROCESSING')`),
  ],
);

export const jobStages = pgTable(
  'job_stages',
  {
    jobId: text()
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    position: integer().notNull(),
    /** PENDING RUNNING COMPLETED FAILED SKIPPED */
    status: text().notNull().default('PENDING'),
    attempts: integer().notNull().default(0),
    progress: real().notNull().default(0),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
    error: jsonb().$type<JobErrorShape>(),
    output: jsonb().$type<Record<string, unknown>>(),
    files: jsonb().$type<OutputFile[]>().notNull().default([]),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.name] })],
);

export const jobEvents = pgTable(
  'job_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    jobId: text()
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    ownerId: text().notNull(),
    /** 1, 2, 3… per job, no gaps. */
    sequence: integer().notNull(),
    type: text().notNull(),
    status: text().notNull(),
    progress: real().notNull(),
    stage: text(),
    error: jsonb().$type<JobErrorShape>(),
    /** Whatever a support engineer needs: attempt, retry delay, worker, durations… */
    data: jsonb().$type<Record<string, unknown>>(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('job_events_job_sequence_idx').on(t.jobId, t.sequence), index('job_events_owner_idx').on(t.ownerId, t.id)],
);

export type JobRow = typeof jobs.$inferSelect;
export type StageRow = typeof jobStages.$inferSelect;
export type JobEventRow = typeof jobEvents.$inferSelect;
