// One postgres.js pool and its drizzle wrapper per process.
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index';

export type Db = ReturnType<typeof makeDrizzle>;
export type Sql = postgres.Sql;

function makeDrizzle(sql: postgres.Sql) {
  return drizzle(sql, { schema, casing: 'snake_case' });
}

export interface Database {
  url: string;
  sql: Sql;
  db: Db;
  close(): Promise<void>;
}

/**
 * Server-side TCP keepalives (and a user timeout) for every vidq session: a peer that vanished without
 * closing its socket (a worker whose machine died or was cut off) has its session ended by PostgreSQL
 * within about 20 s, which releases its locks (src/db/process-lease.ts). Settable by any user.
 */
export const SERVER_KEEPALIVES = {
  tcp_keepalives_idle: '10',
  tcp_keepalives_interval: '3',
  tcp_keepalives_count: '3',
  tcp_user_timeout: '20000',
};

export interface ConnectOptions {
  max?: number;
  applicationName?: string;
  /** 'off' for a pool whose commits need not wait for the WAL flush (see webhooks/worker.ts for when that is safe). */
  synchronousCommit?: 'off';
}

export function connectDatabase(url: string, options: ConnectOptions = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: {
      application_name: options.applicationName ?? 'vidq',
      ...SERVER_KEEPALIVES,
      ...(options.synchronousCommit ? { synchronous_commit: options.synchronousCommit } : {}),
    },
    keep_alive: 10,
    // Fail fast when PostgreSQL is gone instead of queueing requests forever.
    connect_timeout: 5,
  });
  return {
    url,
    sql,
    db: makeDrizzle(sql),
    close: () => sql.end({ timeout: 5 }),
  };
}

/** A transaction handed out by db.transaction(). */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Functions that must run inside the caller's transaction take this, so they also work without one. */
export type DbOrTx = Db | Tx;
