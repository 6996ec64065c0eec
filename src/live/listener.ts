// The one dedicated PostgreSQL connection a process LISTENs on. A pool would spread notifications over
// several connections and reorder them; one connection delivers them in commit order.
//
// NOTIFY is fire-and-forget: whatever is sent while the connection is down is lost. So when the
// connection drops (a restart, a failover, pg_terminate_backend), it is re-established with backoff
// and every resync handler is told when the outage began, to re-read from the tables what it missed.
// A heartbeat query notices a connection that died without closing (half-open TCP).
import postgres from 'postgres';
import type { Logger } from '../logger';

export interface PgListenerOptions {
  applicationName: string;
  channels: string[];
  /** How often the connection is probed with `select 1` (ms). */
  heartbeatMs?: number;
}

export interface PgListener {
  /** Handlers run synchronously, in the order notifications were committed. */
  on(channel: string, handler: (payload: string) => void): void;
  /** Called after every reconnect with the time the connection was lost. */
  onResync(handler: (lostAt: Date) => void): void;
  readonly connected: boolean;
  /** How many times the connection was re-established. */
  readonly reconnects: number;
  close(): Promise<void>;
}

const HEARTBEAT_TIMEOUT_MS = 5_000;
const MAX_BACKOFF_MS = 5_000;

export async function startPgListener(url: string, log: Logger, options: PgListenerOptions): Promise<PgListener> {
  const handlers = new Map<string, Array<(payload: string) => void>>(options.channels.map((c) => [c, []]));
  const resyncHandlers: Array<(lostAt: Date) => void> = [];
  let sql: postgres.Sql | null = null;
  let connected = false;
  let closing = false;
  let reconnects = 0;
  let lostAt: Date | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoffMs = 100;
  let started = false;

  const listenStatement = options.channels.map((c) => `listen "${c.replace(/"/g, '""')}"`).join('; ');

  function open(): postgres.Sql {
    const instance: postgres.Sql = postgres(url, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      connect_timeout: 5,
      keep_alive: 10,
      onnotice: () => {},
      connection: { application_name: options.applicationName },
      onclose: () => {
        if (instance === sql) lost('connection closed');
      },
      // Not in postgres.js's types, but the option its own sql.listen() is built on.
      ...({
        onnotify: (channel: string, payload: string) => {
          if (instance !== sql) return;
          for (const handler of handlers.get(channel) ?? []) {
            try {
              handler(payload);
            } catch (error) {
              log.error({ err: error, channel }, 'notification handler failed');
            }
          }
        },
      } as object),
    });
    return instance;
  }

  async function connect(): Promise<void> {
    const instance = open();
    sql = instance;
    try {
      await instance.unsafe(listenStatement);
    } catch (error) {
      if (sql === instance) sql = null;
      void instance.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
    if (sql !== instance) return; // lost again while connecting: lost() has scheduled another try
    connected = true;
    backoffMs = 100;
    if (lostAt) {
      const since = lostAt;
      lostAt = null;
      reconnects++;
      log.info({ reconnects, downMs: Date.now() - since.getTime() }, 'LISTEN connection re-established: re-reading missed changes');
      for (const handler of resyncHandlers) {
        try {
          handler(since);
        } catch (error) {
          log.error({ err: error }, 'resync handler failed');
        }
      }
    }
  }

  function lost(reason: string) {
    if (closing || !started) return;
    const previous = sql;
    sql = null;
    if (connected) log.warn({ reason }, 'LISTEN connection lost: reconnecting');
    connected = false;
    lostAt ??= new Date();
    if (previous) void previous.end({ timeout: 0 }).catch(() => {});
    scheduleRetry(backoffMs);
  }

  function scheduleRetry(delayMs: number) {
    if (closing || retryTimer) return;
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      if (closing || sql) return;
      try {
        await connect();
      } catch (error) {
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        log.warn({ err: error, retryInMs: backoffMs }, 'LISTEN reconnect failed');
        scheduleRetry(backoffMs);
      }
    }, delayMs);
  }

  const heartbeat = setInterval(async () => {
    const instance = sql;
    if (!instance || !connected) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        instance`select 1`,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('heartbeat timed out')), HEARTBEAT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      if (instance === sql) lost(`heartbeat failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();

  try {
    await connect();
    started = true;
  } catch (error) {
    clearInterval(heartbeat);
    throw error;
  }

  return {
    on(channel, handler) {
      const list = handlers.get(channel);
      if (!list) throw new Error(`channel ${channel} is not listened on; add it to options.channels`);
      list.push(handler);
    },
    onResync(handler) {
      resyncHandlers.push(handler);
    },
    get connected() {
      return connected;
    },
    get reconnects() {
      return reconnects;
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      clearTimeout(retryTimer);
      const instance = sql;
      sql = null;
      connected = false;
      await instance?.end({ timeout: 2 }).catch(() => {});
    },
  };
}
