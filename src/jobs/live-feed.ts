// Live job events across processes, a feed of the API process's live hub (live/hub.ts), which LISTENs
// on one dedicated connection. A NOTIFY carries ids only; the process then reads each new event ONCE from
// job_events and fans the row out to every local subscriber of that job (and to `jobEvents`
// subscribers who may see it). Subscribers never query the table per notice, so 5,000 subscribers of
// one job cost one read per event, not 5,000.
//
// Per job, a feed remembers the last sequence it read and reads "everything after it", so rows go out
// in sequence order without gaps, however notices are batched. After the LISTEN connection comes back,
// every feed reads what was committed meanwhile; jobs that started during the outage are found in the
// table by time.
import { and, asc, eq, gt, gte, sql as rawSql } from 'drizzle-orm';
import { type JobEventRow, jobEvents } from '../db/schema/index';
import type { LiveFeedDefinition, LiveFeedHost } from '../live/hub';
import { markShared } from '../live/shared-execution';
import type { Sink } from '../live/types';
import { JOB_EVENTS_CHANNEL, type JobEventNotice, TERMINAL_EVENT_TYPES, type JobEventType } from './events';

/** A feed nobody watches is dropped after this long without events. */
const IDLE_FEED_MS = 10 * 60_000;
/** How far before an outage began the catch-up looks for jobs it has not seen (clock skew, long transactions). */
const RESYNC_MARGIN_MS = 60_000;
const READ_RETRY_MS = 1_000;

export interface AllEventsFilter {
  viewerId: string;
  isAdmin: boolean;
  statuses: ReadonlySet<string> | null;
}

export interface JobEventFeed {
  /**
   * Pushes one job's rows from now on into `sink` (callers replay the table themselves after this
   * call). `knownSequence` is the job's lastSequence as the caller read it just before. Every sink gets
   * the same row objects, marked shared (live/shared-execution.ts). (Pairs of calls rather than
   * returned closures: thousands of registrations stay small.)
   */
  watchJob(jobId: string, knownSequence: number, sink: Sink<JobEventRow>): void;
  unwatchJob(jobId: string, sink: Sink<JobEventRow>): void;
  /** Pushes the rows of every job the viewer may see (all jobs for an admin), optionally by status. */
  watchAll(filter: AllEventsFilter, sink: Sink<JobEventRow>): void;
  unwatchAll(sink: Sink<JobEventRow>): void;
  close(): void;
}

interface Feed {
  jobId: string;
  last: number;
  watchers: Set<Sink<JobEventRow>>;
  reading: boolean;
  again: boolean;
  touchedAt: number;
}

interface AllWatcher {
  filter: AllEventsFilter;
  sink: Sink<JobEventRow>;
}

export const jobEventFeed: LiveFeedDefinition<JobEventFeed> = {
  channels: [JOB_EVENTS_CHANNEL],
  start: startJobEventFeed,
};

function startJobEventFeed({ db, log, on, onResync }: LiveFeedHost): JobEventFeed {
  const logger = log.child({ component: 'job-events' });
  const feeds = new Map<string, Feed>();
  const allWatchers = new Map<Sink<JobEventRow>, AllWatcher>();
  const adminWatchers = { count: 0 };
  const ownerWatchers = new Map<string, number>();
  let closed = false;

  function interestedInOwner(ownerId: string) {
    return adminWatchers.count > 0 || (ownerWatchers.get(ownerId) ?? 0) > 0;
  }

  function feedFor(jobId: string, last: number): Feed {
    let feed = feeds.get(jobId);
    if (!feed) {
      feed = { jobId, last, watchers: new Set(), reading: false, again: false, touchedAt: Date.now() };
      feeds.set(jobId, feed);
    }
    return feed;
  }

  function dispatch(feed: Feed, row: JobEventRow) {
    markShared(row);
    for (const sink of feed.watchers) sink.push(row);
    if (!allWatchers.size) return;
    for (const w of allWatchers.values()) {
      if (!w.filter.isAdmin && w.filter.viewerId !== row.ownerId) continue;
      if (w.filter.statuses && !w.filter.statuses.has(row.status)) continue;
      w.sink.push(row);
    }
  }

  /** Reads everything after feed.last, once, however many notices asked for it meanwhile. */
  function read(feed: Feed) {
    feed.touchedAt = Date.now();
    if (feed.reading) {
      feed.again = true;
      return;
    }
    feed.reading = true;
    void (async () => {
      try {
        do {
          feed.again = false;
          const rows = await db
            .select()
            .from(jobEvents)
            .where(and(eq(jobEvents.jobId, feed.jobId), gt(jobEvents.sequence, feed.last)))
            .orderBy(asc(jobEvents.sequence));
          for (const row of rows) {
            feed.last = row.sequence;
            dispatch(feed, row);
          }
          // A finished job's feed goes with its last watcher. (While `jobEvents` streams are open, feeds
          // stay until idle: the catch-up after a reconnect relies on them to know what it delivered.)
          const lastRow = rows.at(-1);
          if (lastRow && TERMINAL_EVENT_TYPES.has(lastRow.type as JobEventType) && !feed.watchers.size && !allWatchers.size) feeds.delete(feed.jobId);
        } while (feed.again && !closed);
        feed.reading = false;
      } catch (error) {
        feed.reading = false;
        if (closed) return;
        logger.warn({ err: error, jobId: feed.jobId }, 'reading new job events failed; retrying');
        setTimeout(() => read(feed), READ_RETRY_MS).unref();
      }
    })();
  }

  on(JOB_EVENTS_CHANNEL, (payload) => {
    let notice: JobEventNotice;
    try {
      notice = JSON.parse(payload) as JobEventNotice;
    } catch {
      logger.warn({ payload }, 'ignored a malformed job event notice');
      return;
    }
    let feed = feeds.get(notice.jobId);
    if (!feed) {
      if (!interestedInOwner(notice.ownerId)) return;
      feed = feedFor(notice.jobId, notice.sequence - 1);
    }
    if (notice.sequence > feed.last) read(feed);
  });

  onResync(async (lostAt) => {
    for (const feed of feeds.values()) read(feed);
    if (!allWatchers.size) return;
    try {
      // Jobs whose first event since the outage we never heard of. (Feeds outlive RESYNC_MARGIN_MS, so a
      // job with no feed had nothing delivered in that window.)
      const since = new Date(lostAt.getTime() - RESYNC_MARGIN_MS);
      const rows = await db
        .select({ jobId: jobEvents.jobId, ownerId: jobEvents.ownerId, first: rawSql<number>`min(${jobEvents.sequence})`.mapWith(Number) })
        .from(jobEvents)
        .where(gte(jobEvents.at, since))
        .groupBy(jobEvents.jobId, jobEvents.ownerId);
      for (const row of rows) {
        if (feeds.has(row.jobId) || !interestedInOwner(row.ownerId)) continue;
        read(feedFor(row.jobId, row.first - 1));
      }
    } catch (error) {
      logger.warn({ err: error }, 'catching up on job events after reconnect failed');
    }
  });

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [jobId, feed] of feeds) {
      if (!feed.watchers.size && !feed.reading && now - feed.touchedAt > IDLE_FEED_MS) feeds.delete(jobId);
    }
  }, 60_000);
  sweep.unref();

  return {
    watchJob(jobId, knownSequence, sink) {
      feedFor(jobId, knownSequence).watchers.add(sink);
    },
    unwatchJob(jobId, sink) {
      const feed = feeds.get(jobId);
      if (!feed) return;
      feed.watchers.delete(sink);
      if (!feed.watchers.size && !allWatchers.size) feeds.delete(jobId);
    },
    watchAll(filter, sink) {
      allWatchers.set(sink, { filter, sink });
      if (filter.isAdmin) adminWatchers.count++;
      else ownerWatchers.set(filter.viewerId, (ownerWatchers.get(filter.viewerId) ?? 0) + 1);
    },
    unwatchAll(sink) {
      const watcher = allWatchers.get(sink);
      if (!watcher) return;
      allWatchers.delete(sink);
      const { filter } = watcher;
      if (filter.isAdmin) adminWatchers.count--;
      else {
        const n = (ownerWatchers.get(filter.viewerId) ?? 1) - 1;
        if (n > 0) ownerWatchers.set(filter.viewerId, n);
        else ownerWatchers.delete(filter.viewerId);
      }
    },
    close() {
      closed = true;
      clearInterval(sweep);
      feeds.clear();
      allWatchers.clear();
    },
  };
}
