// Finished jobs are kept JOB_RETENTION_HOURS, then removed with their output files (from storage) by a scheduled
// pg-boss job (any worker runs it, once per schedule).
import { and, inArray, lt, sql } from 'drizzle-orm';
import { jobs } from '../db/schema/index';
import type { Services } from '../services';
import { deleteRecorded, recordDeletions } from '../storage/deletions';
import { jobOutputsPrefix } from '../storage/keys';
import { TERMINAL_STATUSES } from './status';

export async function removeExpiredJobs(services: Services): Promise<string[]> {
  const { config, database, storage, log } = services;
  // The outputs' prefixes are recorded with the rows' removal: files the storage does not delete now
  // are deleted by a later run (storage/deletions.ts), and one failing never stops the others.
  const removed = await database.db.transaction(async (tx) => {
    const rows = await tx
      .delete(jobs)
      .where(and(inArray(jobs.status, [...TERMINAL_STATUSES]), lt(jobs.finishedAt, sql`now() - ${config.jobRetentionHours} * interval '1 hour'`)))
      .returning({ id: jobs.id });
    await recordDeletions(
      tx,
      rows.map((row) => jobOutputsPrefix(row.id)),
    );
    return rows;
  });
  await deleteRecorded(
    { db: database.db, storage, log },
    removed.map((row) => jobOutputsPrefix(row.id)),
  );
  if (removed.length) services.log.info({ count: removed.length }, 'removed jobs past their retention');
  return removed.map((r) => r.id);
}
