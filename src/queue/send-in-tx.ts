// Queue jobs written in the caller's transaction: a row and the queue job that acts on it both exist,
// or neither does (pg-boss writes through the transaction's own connection).
import { sql } from 'drizzle-orm';
import { fromDrizzle, type JobInsert, type PgBoss, type SendOptions } from 'pg-boss';
import type { DbOrTx } from '../db/client';

/** Sends one queue job inside `tx`. */
export function sendInTx(boss: PgBoss, tx: DbOrTx, queue: string, data: object, options: Omit<SendOptions, 'db'> = {}) {
  return boss.send(queue, data, { ...options, db: fromDrizzle(tx as never, sql as never) });
}

/** Inserts several queue jobs inside `tx`. */
export function insertInTx(boss: PgBoss, tx: DbOrTx, queue: string, jobs: JobInsert[]) {
  return boss.insert(queue, jobs, { db: fromDrizzle(tx as never, sql as never) });
}
