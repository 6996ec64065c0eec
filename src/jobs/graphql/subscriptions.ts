// jobUpdated: first every stored event after afterSequence, then live ones, in sequence order without
// gaps or duplicates, completing after the terminal event.
import { builder } from '../../graphql/builder';
import type { GraphQLContext } from '../../graphql/context';
import { JobNotFoundError } from '../../graphql/errors';
import { TERMINAL_EVENT_TYPES, type JobEventType } from '../events';
import { RESYNC } from '../pubsub';
import { eventsOf, getVisibleJob } from '../queries';
import { type EventRow, JobEventRef } from './types';

builder.subscriptionType({});

const JobUpdatedResult = builder.unionType('JobUpdatedResult', {
  types: [JobEventRef, JobNotFoundError],
  resolveType: (value) => (value instanceof JobNotFoundError ? 'JobNotFoundError' : 'JobEvent'),
});

const TERMINAL_STATUSES = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

export async function* followJob(ctx: GraphQLContext, jobId: string, afterSequence: number): AsyncGenerator<EventRow | JobNotFoundError> {
  const db = ctx.services.database.db;
  let job;
  try {
    job = await getVisibleJob(db, ctx.viewer, jobId);
  } catch (error) {
    if (error instanceof JobNotFoundError) {
      yield error;
      return;
    }
    throw error;
  }
  if (!ctx.jobEvents) throw new Error('subscriptions need the job event bus (API role)');
  // Listen before reading the table, so that nothing committed in between is missed.
  const live = ctx.jobEvents.subscribeJob(jobId)[Symbol.asyncIterator]();
  let last = afterSequence;
  try {
    if (TERMINAL_STATUSES.has(job.status) && last >= job.lastSequence) return;
    while (true) {
      for (const event of await eventsOf(db, jobId, last)) {
        last = event.sequence;
        yield event;
        if (TERMINAL_EVENT_TYPES.has(event.type as JobEventType)) return;
      }
      let notice;
      do {
        notice = await live.next();
        if (notice.done) return;
      } while (notice.value !== RESYNC && notice.value.sequence <= last);
    }
  } finally {
    await live.return?.();
  }
}

builder.subscriptionField('jobUpdated', (t) =>
  t.field({
    type: JobUpdatedResult,
    description: 'Stored events after afterSequence, then live ones; completes after the terminal event. Resubscribe with the last sequence seen to miss nothing.',
    args: { jobId: t.arg.id({ required: true }), afterSequence: t.arg.int({ required: false }) },
    subscribe: (_root, args, ctx) => followJob(ctx, args.jobId, args.afterSequence ?? 0),
    resolve: (value) => value,
  }),
);
