// Live job events.
//   jobUpdated(jobId, afterSequence): the stored events after afterSequence, then live ones, in sequence
//     order without gaps or duplicates; completes after the terminal event. Resubscribing with the last
//     sequence seen misses nothing, whichever API process the client reconnects to.
//   jobEvents(status): every event of the viewer's jobs (every job for an admin) from now on.
// Both work over graphql-ws and over SSE (Yoga serves text/event-stream on the same /graphql path).
// An expected failure is the stream's one item before it completes (JobNotFoundError), as in the
// contract's result unions.
import { builder } from '../../graphql/builder';
import { JobNotFoundError } from '../../errors/app-errors';
import { JobStatusEnum } from '../../graphql/errors';
import { TERMINAL_STATUSES } from '../status';
import type { JobEventRow } from '../../db/schema/index';
import { TERMINAL_EVENT_TYPES, type JobEventType } from '../events';
import { eventsOf, getVisibleJob } from '../queries';
import type { GraphQLContext } from '../../graphql/context';
import { Follower, PullStream, type Consumer } from '../../live/follower';
import { markShared } from '../../live/shared-execution';
import { asResult, liveFeeds, resultTypeName } from '../../live/streams';
import type { AllEventsFilter } from '../live-feed';
import { JobEventRef } from './types';

builder.subscriptionType({
  description: 'Live updates, over graphql-ws (WebSocket, `graphql-transport-ws`) or SSE (`Accept: text/event-stream`).',
});

const JobUpdatedResult = builder.unionType('JobUpdatedResult', {
  types: [JobEventRef, JobNotFoundError],
  resolveType: (value) => resultTypeName(value, 'JobEvent') as 'JobEvent',
});

const isTerminal = (row: JobEventRow) => TERMINAL_EVENT_TYPES.has(row.type as JobEventType);

/** Live rows kept while the table is being read; past it, the next read of the table covers them. */
const HELD_LIMIT = 1_000;

/**
 * One job's events: the table after `last`, then the rows the job event feed pushes, dropping what arrives twice
 * by sequence and reading the table again when a row is missing. The watch starts before the table is
 * read, so nothing committed in between is missed; live rows that arrive while the table is being read
 * are held and handed out after it.
 */
class JobFollower extends Follower<JobEventRow, JobEventRow | JobNotFoundError> {
  /** Reading the table: live rows wait in `held`. */
  private reading = true;
  private held: JobEventRow[] | null = null;
  private readAgain = false;
  private watching = false;

  constructor(
    ctx: GraphQLContext,
    consumer: Consumer<JobEventRow | JobNotFoundError>,
    private readonly jobId: string,
    private last: number,
  ) {
    super(ctx, consumer);
  }

  start() {
    void this.begin().catch((error) => this.fail(error));
  }

  private async begin() {
    let job;
    try {
      job = await getVisibleJob(this.ctx.services.database.db, this.ctx.viewer, this.jobId);
    } catch (error) {
      if (!(error instanceof JobNotFoundError)) throw error;
      this.emit(asResult(error, JobNotFoundError));
      return this.finish();
    }
    if (this.ended) return;
    const live = liveFeeds(this.ctx);
    live.jobEvents.watchJob(this.jobId, job.lastSequence, this);
    if (this.watchesRevocation) live.keyRevocations.watch(this.ctx.viewer.keyId, this);
    this.watching = true;
    const before = this.last;
    await this.readTable();
    // A finished job with nothing after afterSequence: nothing more will come.
    if (!this.ended && this.last === before && (TERMINAL_STATUSES as readonly string[]).includes(job.status) && this.last >= job.lastSequence) this.finish();
  }

  protected detach() {
    if (!this.watching) return;
    const live = liveFeeds(this.ctx);
    live.jobEvents.unwatchJob(this.jobId, this);
    if (this.watchesRevocation) live.keyRevocations.unwatch(this.ctx.viewer.keyId, this);
  }

  push(row: JobEventRow) {
    if (this.ended) return;
    if (this.reading) {
      this.held ??= [];
      if (this.held.length < HELD_LIMIT) this.held.push(row);
      else this.readAgain = true;
      return;
    }
    this.live(row);
  }

  private live(row: JobEventRow) {
    if (row.sequence <= this.last) return;
    if (row.sequence > this.last + 1) {
      // A row is missing (it cannot normally be): the table has everything.
      (this.held ??= []).push(row);
      void this.readTable().catch((error) => this.fail(error));
      return;
    }
    this.last = row.sequence;
    this.emit(row);
    if (isTerminal(row)) this.finish();
  }

  /** Hands out the table's rows after `last`, then the live rows held meanwhile. */
  private async readTable(): Promise<void> {
    this.reading = true;
    do {
      this.readAgain = false;
      const rows = await eventsOf(this.ctx.services.database.db, this.jobId, this.last);
      for (let i = 0; i < rows.length && !this.ended; i++) {
        const row = markShared(rows[i]);
        this.last = row.sequence;
        this.emit(row);
        // The stream ends at a terminal event, unless more followed it (retryJob ran the job again).
        if (isTerminal(row) && i === rows.length - 1) return this.finish();
      }
    } while (this.readAgain && !this.ended);
    this.reading = false;
    const held = this.held;
    this.held = null;
    if (!held) return;
    for (let i = 0; i < held.length && !this.ended; i++) {
      this.live(held[i]);
      if (this.reading) {
        // live() found a gap and is reading again: keep the rest for after it.
        (this.held ??= []).push(...held.slice(i + 1));
        return;
      }
    }
  }
}

builder.subscriptionField('jobUpdated', (t) =>
  t.field({
    type: JobUpdatedResult,
    description:
      "The job's stored events after afterSequence (default 0: all of them), then live ones, in sequence order without gaps or duplicates; completes after the terminal event. After a dropped connection, resubscribe with the last sequence seen to miss nothing. Another user's job or an unknown id: JobNotFoundError, then the stream completes.",
    args: {
      jobId: t.arg.id({ required: true }),
      afterSequence: t.arg.int({ required: false, description: 'The last sequence already seen.' }),
    },
    subscribe: (_root, args, ctx) =>
      new PullStream<JobEventRow | JobNotFoundError>((consumer) => new JobFollower(ctx, consumer, args.jobId, Math.max(0, args.afterSequence ?? 0))),
    resolve: (value) => value,
  }),
);

/** Every event of the jobs a viewer may see, as the live hub pushes them. */
class AllEventsFollower extends Follower<JobEventRow, JobEventRow> {
  constructor(
    ctx: GraphQLContext,
    consumer: Consumer<JobEventRow>,
    private readonly filter: AllEventsFilter,
  ) {
    super(ctx, consumer);
  }

  start() {
    const live = liveFeeds(this.ctx);
    live.jobEvents.watchAll(this.filter, this);
    // A revocation since the request was authenticated (before its slot was taken) is not missed:
    // watch() reads the key once more after registering it.
    if (this.watchesRevocation) live.keyRevocations.watch(this.ctx.viewer.keyId, this);
  }

  protected detach() {
    const live = liveFeeds(this.ctx);
    live.jobEvents.unwatchAll(this);
    if (this.watchesRevocation) live.keyRevocations.unwatch(this.ctx.viewer.keyId, this);
  }

  push(row: JobEventRow) {
    this.emit(row);
  }
}

builder.subscriptionField('jobEvents', (t) =>
  t.field({
    type: JobEventRef,
    description:
      "Every event of the viewer's jobs from now on (every job's for an admin); with `status`, only events that leave a job in one of those statuses. Each job's events arrive in sequence order; the stream does not complete.",
    args: { status: t.arg({ type: [JobStatusEnum], required: false }) },
    subscribe: (_root, args, ctx) => {
      const filter = { viewerId: ctx.viewer.id, isAdmin: ctx.viewer.isAdmin, statuses: args.status?.length ? new Set(args.status) : null };
      return new PullStream<JobEventRow>((consumer) => new AllEventsFollower(ctx, consumer, filter));
    },
    resolve: (value) => value,
  }),
);
