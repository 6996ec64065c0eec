// Finished jobs are kept JOB_RETENTION_HOURS, then removed with their output files (from storage) by a scheduled
// pg-boss job (any worker runs it, once per schedule).
import { and, inArray, lt, sql } from 'drizzle-orm';
import { jobs } from '../db/schema/index';
import type { Services } from '../services';
import { TERMINAL_STATUSES } from './status';

export async function removeExpiredJobs(services: Services): Promise<string[]> {
  const { config, database } = services;
  const removed = await database.db
    .delete(jobs)
    .where(and(inArray(jobs.status, [...TERMINAL_STATUSES]), lt(jobs.finishedAt, sql`now() - ${config.jobRetentionHours} * interval '1 hour'`)))
    .returning({ id: jobs.id });
  for (const { id } of removed) await services.storage.deletePrefix(`outputs/${id}/`);
  if (removed.length) services.log.info({ count: removed.length }, 'removed jobs past their retention');
  return removed.map((r) => r.id);
}
