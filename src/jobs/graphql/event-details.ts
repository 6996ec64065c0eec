// Typed details of a job event, one GraphQL type per kind of event (`JobEvent.details`). They are read
// from the event's stored `data` (written by jobs/submit.ts, control.ts, transitions.ts, handler.ts,
// crash-recovery.ts), which `JobEvent.data` keeps returning raw. Fields an older row may lack are nullable.
import { builder } from '../../graphql/builder';
import { JobStatusEnum } from '../../graphql/errors';
import type { JobEventRow } from '../../db/schema/index';
import type { JobStatus } from '../status';
import { StageStatusEnum } from './enums';

type Event = JobEventRow;

const num = (e: Event, key: string) => (typeof e.data?.[key] === 'number' ? (e.data[key] as number) : null);
const str = (e: Event, key: string) => (typeof e.data?.[key] === 'string' ? (e.data[key] as string) : null);
const strings = (e: Event, key: string) => (Array.isArray(e.data?.[key]) ? (e.data[key] as string[]) : null);
const status = (e: Event, key: string) => str(e, key) as JobStatus | null;

const JobQueuedDetailsRef = builder.objectRef<Event>('JobQueuedDetails').implement({
  description: 'QUEUED: the job was submitted, or retried by its owner (then `retryOf` is set).',
  fields: (t) => ({
    costCredits: t.int({ nullable: true, description: 'Credits the job will cost (reserved until it ends).', resolve: (e) => num(e, 'costCredits') }),
    stages: t.stringList({ nullable: true, description: 'The stages it will run, in order.', resolve: (e) => strings(e, 'stages') }),
    timeoutSeconds: t.int({ nullable: true, resolve: (e) => num(e, 'timeoutSeconds') }),
    submittedBy: t.id({ nullable: true, description: 'The user who submitted it.', resolve: (e) => str(e, 'submittedBy') }),
    retryOf: t.field({ type: JobStatusEnum, nullable: true, description: 'On a retry: the status the job had.', resolve: (e) => status(e, 'retryOf') }),
    retriedBy: t.id({ nullable: true, resolve: (e) => str(e, 'retriedBy') }),
    keptStages: t.stringList({ nullable: true, description: 'On a retry: finished stages whose results are kept.', resolve: (e) => strings(e, 'keptStages') }),
  }),
});

const JobStartedDetailsRef = builder.objectRef<Event>('JobStartedDetails').implement({
  description: 'STARTED: a worker began an attempt.',
  fields: (t) => ({
    attempt: t.int({ nullable: true, resolve: (e) => num(e, 'attempt') }),
    maxAttempts: t.int({ nullable: true, resolve: (e) => num(e, 'maxAttempts') }),
    worker: t.string({ nullable: true, description: 'host:pid of the worker process.', resolve: (e) => str(e, 'worker') }),
    recovered: t.boolean({
      description: 'The previous attempt stopped without finishing (its worker crashed or was lost); this one resumes at the first unfinished stage.',
      resolve: (e) => e.data?.recovered === true,
    }),
    note: t.string({ nullable: true, resolve: (e) => str(e, 'note') }),
  }),
});

const StageStartedDetailsRef = builder.objectRef<Event>('StageStartedDetails').implement({
  description: 'STAGE_STARTED: `JobEvent.stage` began.',
  fields: (t) => ({ attempt: t.int({ nullable: true, description: "The job's attempt.", resolve: (e) => num(e, 'attempt') }) }),
});

const StageProgressDetailsRef = builder.objectRef<Event>('StageProgressDetails').implement({
  description: "PROGRESS: how far the current stage is (the job's overall progress is `JobEvent.progress`).",
  fields: (t) => ({ stageProgress: t.float({ resolve: (e) => num(e, 'stageProgress') ?? 0 }) }),
});

const StageCompletedDetailsRef = builder.objectRef<Event>('StageCompletedDetails').implement({
  description: 'STAGE_COMPLETED: the stage finished (COMPLETED) or was skipped (SKIPPED, with the reason).',
  fields: (t) => ({
    stageStatus: t.field({
      type: StageStatusEnum,
      description: 'COMPLETED or SKIPPED.',
      resolve: (e) => (str(e, 'stageStatus') ?? 'COMPLETED') as 'COMPLETED',
    }),
    skipReason: t.string({ nullable: true, resolve: (e) => str(e, 'reason') }),
  }),
});

const RetryScheduledDetailsRef = builder.objectRef<Event>('RetryScheduledDetails').implement({
  description: 'RETRY_SCHEDULED: a transient failure; the job runs again after a backoff, from the stage that failed (`JobEvent.error`).',
  fields: (t) => ({
    attempt: t.int({ nullable: true, description: 'The attempt that failed.', resolve: (e) => num(e, 'attempt') }),
    reason: t.string({ nullable: true, description: 'What failed, as the stage reported it.', resolve: (e) => str(e, 'reason') }),
    retriesLeft: t.int({
      nullable: true,
      description: 'Automatic retries left, counting the one now scheduled (1: this retry is the last).',
      resolve: (e) => num(e, 'retriesLeft'),
    }),
    backoff: t.string({ nullable: true, description: 'e.g. "exponential from 2s".', resolve: (e) => str(e, 'backoff') }),
  }),
});

const JobEndedDetailsRef = builder.objectRef<Event>('JobEndedDetails').implement({
  description: 'COMPLETED, FAILED, TIMED_OUT or CANCELLED: the job ended (its error, if any, is `JobEvent.error`).',
  fields: (t) => ({
    retriesExhausted: t.boolean({ description: 'FAILED after its last allowed attempt.', resolve: (e) => e.data?.retriesExhausted === true }),
    attempts: t.int({ nullable: true, resolve: (e) => num(e, 'attempts') }),
    cancelledBy: t.id({ nullable: true, resolve: (e) => str(e, 'cancelledBy') }),
    wasStatus: t.field({
      type: JobStatusEnum,
      nullable: true,
      description: 'CANCELLED: the status it was cancelled in.',
      resolve: (e) => status(e, 'wasStatus'),
    }),
  }),
});

const DETAILS_BY_TYPE = {
  QUEUED: JobQueuedDetailsRef,
  STARTED: JobStartedDetailsRef,
  STAGE_STARTED: StageStartedDetailsRef,
  PROGRESS: StageProgressDetailsRef,
  STAGE_COMPLETED: StageCompletedDetailsRef,
  RETRY_SCHEDULED: RetryScheduledDetailsRef,
  COMPLETED: JobEndedDetailsRef,
  FAILED: JobEndedDetailsRef,
  TIMED_OUT: JobEndedDetailsRef,
  CANCELLED: JobEndedDetailsRef,
} as const;

export const JobEventDetailsRef = builder.unionType('JobEventDetails', {
  description: "What a job event adds, typed by the event's `type`.",
  types: [...new Set(Object.values(DETAILS_BY_TYPE))],
  resolveType: (e) => DETAILS_BY_TYPE[e.type as keyof typeof DETAILS_BY_TYPE] ?? JobEndedDetailsRef,
});
