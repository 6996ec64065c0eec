// The API process's notification hub: one LISTEN connection (live/listener.ts) and a small pool for the
// reads that follow a notice, shared by the feeds that domains register on it (job events, alerts, key
// revocations). The hub knows no domain: each feed names its channel, gets that channel's notices in
// commit order, and is told after every reconnect when the connection was lost, to re-read what it missed.
import { connectDatabase, type Db } from '../db/client';
import type { Logger } from '../logger';
import { startPgListener } from './listener';

export const LISTENER_APPLICATION_NAME = 'vidq-events';
const READ_POOL_APPLICATION_NAME = 'vidq-events-read';

/** What a feed gets from the hub. */
export interface LiveFeedHost {
  /** Reads of the fan-out: a small pool of their own, apart from request traffic. */
  db: Db;
  log: Logger;
  /** Handlers run synchronously, in the order notifications were committed. */
  on(channel: string, handler: (payload: string) => void): void;
  /** Called after every reconnect with the time the connection was lost. */
  onResync(handler: (lostAt: Date) => void): void;
}

/** A feed as a domain registers it: the channels it listens on, and how it starts. */
export interface LiveFeedDefinition<Feed> {
  channels: readonly string[];
  start(host: LiveFeedHost): Feed & { close?(): void };
}

export interface LiveHub {
  close(): Promise<void>;
}

type FeedsOf<Definitions> = { [Name in keyof Definitions]: Definitions[Name] extends LiveFeedDefinition<infer Feed> ? Feed : never };

/** Starts the hub with the given feeds; resolves once the LISTEN connection is up. */
export async function startLiveHub<Definitions extends Record<string, LiveFeedDefinition<unknown>>>(
  databaseUrl: string,
  log: Logger,
  definitions: Definitions,
): Promise<FeedsOf<Definitions> & { hub: LiveHub }> {
  const logger = log.child({ component: 'live' });
  const channels = [...new Set(Object.values(definitions).flatMap((definition) => definition.channels))];
  const database = connectDatabase(databaseUrl, { max: 3, applicationName: READ_POOL_APPLICATION_NAME });
  const listener = await startPgListener(databaseUrl, logger, { applicationName: LISTENER_APPLICATION_NAME, channels }).catch(async (error) => {
    await database.close();
    throw error;
  });
  const host: LiveFeedHost = {
    db: database.db,
    log: logger,
    on: (channel, handler) => listener.on(channel, handler),
    onResync: (handler) => listener.onResync(handler),
  };
  const started = Object.entries(definitions).map(([name, definition]) => [name, definition.start(host)] as const);
  const hub: LiveHub = {
    async close() {
      for (const [, feed] of started) feed.close?.();
      await listener.close();
      await database.close();
    },
  };
  return { ...(Object.fromEntries(started) as FeedsOf<Definitions>), hub };
}
