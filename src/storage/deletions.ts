// Deleting stored objects so that none outlives its row. deleteVideo and retention record the prefixes
// they remove (storage_deletions) in the transaction that deletes the rows, then delete the objects and
// the records. What the storage did not delete then (a bucket outage, a crash between the commit and the
// delete) stays recorded, and the maintenance job deletes it later: no row ever points at a deleted
// object, and no object is left that no row points to for longer than the outage lasts.
import { eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { storageDeletions } from '../db/schema/index';
import type { Logger } from '../logger';
import type { Storage } from './types';

interface Deps {
  db: Db;
  storage: Storage;
  log: Logger;
}

/** Records prefixes to delete, in the caller's transaction (the one that deletes their rows). */
export async function recordDeletions(tx: Pick<Db, 'insert'>, prefixes: string[]): Promise<void> {
  if (!prefixes.length) return;
  await tx
    .insert(storageDeletions)
    .values(prefixes.map((prefix) => ({ prefix })))
    .onConflictDoNothing();
}

/**
 * Deletes recorded prefixes now, and their records with them. Never throws: what fails stays recorded,
 * with its error, for the maintenance job. Returns the prefixes left.
 */
export async function deleteRecorded(deps: Deps, prefixes: string[]): Promise<string[]> {
  const left: string[] = [];
  for (const prefix of prefixes) {
    try {
      await deps.storage.deletePrefix(prefix);
      await deps.db.delete(storageDeletions).where(eq(storageDeletions.prefix, prefix));
    } catch (error) {
      left.push(prefix);
      const reason = error instanceof Error ? error.message : String(error);
      await deps.db
        .update(storageDeletions)
        .set({ attempts: sql`${storageDeletions.attempts} + 1`, lastError: reason })
        .where(eq(storageDeletions.prefix, prefix))
        .catch(() => {});
      deps.log.warn({ prefix, reason }, `could not delete ${prefix} from storage now: the maintenance job deletes it later`);
    }
  }
  return left;
}

/**
 * For objects that never had a row (an upload refused after its file was stored): deletes the prefix,
 * and records it for the maintenance job only when that fails.
 */
export async function deleteNowOrLater(deps: Deps, prefix: string): Promise<void> {
  try {
    await deps.storage.deletePrefix(prefix);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      await deps.db.insert(storageDeletions).values({ prefix, attempts: 1, lastError: reason }).onConflictDoNothing();
      deps.log.warn({ prefix, reason }, `could not delete ${prefix} from storage now: the maintenance job deletes it later`);
    } catch {
      deps.log.error({ prefix, reason }, `could not delete ${prefix} from storage, nor record it for later: delete it by hand`);
    }
  }
}

/**
 * The maintenance job's part: deletes what earlier deletes left. Records younger than a minute are
 * skipped: their first delete may still be under way.
 */
export async function deleteLeftovers(deps: Deps): Promise<{ deleted: number; left: number }> {
  const rows = await deps.db
    .select({ prefix: storageDeletions.prefix })
    .from(storageDeletions)
    .where(lt(storageDeletions.recordedAt, sql`now() - interval '1 minute'`))
    .orderBy(storageDeletions.recordedAt)
    .limit(1000);
  let deleted = 0;
  for (const { prefix } of rows) {
    if ((await deleteRecorded(deps, [prefix])).length) break; // the storage fails: the next run goes on
    deleted++;
  }
  if (deleted) deps.log.info({ count: deleted }, 'deleted objects left by earlier deletes');
  return { deleted, left: rows.length - deleted };
}
