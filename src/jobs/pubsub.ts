// Live job events across processes: every API process LISTENs on one dedicated connection and fans
// the notices out to its subscribers through Yoga's pub/sub. A notice carries ids only; subscribers
// read the events themselves from job_events, which is what makes replay and gap-free order possible.
import { createPubSub } from 'graphql-yoga';
import postgres from 'postgres';
import type { Logger } from '../logger';
import { JOB_EVENTS_CHANNEL, type JobEventNotice } from './events';

/** Sent to every subscriber when the LISTEN connection was re-established: re-read what you missed. */
export const RESYNC = 'resync' as const;

type Topics = {
  job: [jobId: string, notice: JobEventNotice | typeof RESYNC];
  all: [notice: JobEventNotice | typeof RESYNC];
};

export interface JobEventBus {
  subscribeJob(jobId: string): AsyncIterable<JobEventNotice | typeof RESYNC>;
  subscribeAll(): AsyncIterable<JobEventNotice | typeof RESYNC>;
  close(): Promise<void>;
}

export async function startJobEventBus(databaseUrl: string, log: Logger): Promise<JobEventBus> {
  const pubsub = createPubSub<Topics>();
  // One connection of its own: a pool would spread notifications across connections and reorder them.
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'vidq-events' } });
  let listening = false;
  const subscription = await sql.listen(
    JOB_EVENTS_CHANNEL,
    (payload) => {
      try {
        const notice = JSON.parse(payload) as JobEventNotice;
        pubsub.publish('job', notice.jobId, notice);
        pubsub.publish('all', notice);
      } catch (error) {
        log.warn({ err: error, payload }, 'ignored a malformed job event notice');
      }
    },
    () => {
      // Called on the first LISTEN and again after every reconnect.
      if (listening) {
        log.info('job event listener reconnected: subscribers re-read missed events');
        pubsub.publish('all', RESYNC);
        // Topics are per job; subscribers of every job also get the resync through this broadcast.
        resyncAll();
      }
      listening = true;
    },
  );
  const activeJobs = new Map<string, number>();
  function resyncAll() {
    for (const jobId of activeJobs.keys()) pubsub.publish('job', jobId, RESYNC);
  }
  return {
    subscribeJob(jobId) {
      activeJobs.set(jobId, (activeJobs.get(jobId) ?? 0) + 1);
      const iterable = pubsub.subscribe('job', jobId);
      const iterator = iterable[Symbol.asyncIterator]();
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => iterator.next(),
          return: async (value?: unknown) => {
            const n = (activeJobs.get(jobId) ?? 1) - 1;
            if (n <= 0) activeJobs.delete(jobId);
            else activeJobs.set(jobId, n);
            return iterator.return ? iterator.return(value) : { done: true as const, value: undefined };
          },
        }),
      };
    },
    subscribeAll: () => pubsub.subscribe('all'),
    async close() {
      await subscription.unlisten().catch(() => {});
      await sql.end({ timeout: 2 });
    },
  };
}
