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

export function connectDatabase(url: string, options: { max?: number; applicationName?: string } = {}): Database {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'vidq' },
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
