// Alerts as they are raised, for the `alerts` subscription of this API process: a feed of the live hub. Same shape as the job
// event fan-out: a NOTIFY names the alert, the row is read once (notices arriving together are read
// together) and pushed to every admin subscriber here. After the LISTEN connection comes back, the
// alerts raised meanwhile are read by time.
import { asc, gte, inArray } from 'drizzle-orm';
import { type AlertRow, alerts } from '../db/schema/index';
import type { LiveFeedDefinition, LiveFeedHost } from '../live/hub';
import { markShared } from '../live/shared-execution';
import type { Sink } from '../live/types';
import { ALERTS_CHANNEL, type AlertNotice } from './alerts';

export interface AlertFeed {
  /** Pushes every alert raised from now on into `sink`. */
  watch(sink: Sink<AlertRow>): void;
  unwatch(sink: Sink<AlertRow>): void;
}

const RESYNC_MARGIN_MS = 60_000;
const RECENT_MS = 5 * 60_000;

export const alertFeed: LiveFeedDefinition<AlertFeed> = {
  channels: [ALERTS_CHANNEL],
  start: startAlertFeed,
};

function startAlertFeed({ db, log, on, onResync }: LiveFeedHost): AlertFeed {
  const watchers = new Set<Sink<AlertRow>>();
  /** Alerts already pushed, so a catch-up after a reconnect never repeats one. */
  const recent = new Map<string, number>();
  let pending = new Set<string>();
  let scheduled = false;

  function push(rows: AlertRow[]) {
    const now = Date.now();
    for (const [id, at] of recent) if (now - at > RECENT_MS) recent.delete(id);
    for (const row of rows) {
      if (recent.has(row.id)) continue;
      recent.set(row.id, now);
      markShared(row);
      for (const sink of watchers) sink.push(row);
    }
  }

  async function flush() {
    scheduled = false;
    const ids = [...pending];
    pending = new Set();
    if (!ids.length || !watchers.size) return;
    try {
      push(await db.select().from(alerts).where(inArray(alerts.id, ids)).orderBy(asc(alerts.createdAt)));
    } catch (error) {
      log.warn({ err: error }, 'reading new alerts failed; retrying');
      for (const id of ids) pending.add(id);
      setTimeout(schedule, 1_000).unref();
    }
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush());
  }

  on(ALERTS_CHANNEL, (payload) => {
    if (!watchers.size) return;
    try {
      pending.add((JSON.parse(payload) as AlertNotice).id);
      schedule();
    } catch {
      log.warn({ payload }, 'ignored a malformed alert notice');
    }
  });

  onResync(async (lostAt) => {
    if (!watchers.size) return;
    try {
      const since = new Date(lostAt.getTime() - RESYNC_MARGIN_MS);
      push(await db.select().from(alerts).where(gte(alerts.createdAt, since)).orderBy(asc(alerts.createdAt)));
    } catch (error) {
      log.warn({ err: error }, 'catching up on alerts after reconnect failed');
    }
  });

  return {
    watch(sink) {
      watchers.add(sink);
    },
    unwatch(sink) {
      watchers.delete(sink);
    },
  };
}
