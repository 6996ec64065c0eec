// Reading jobs as a given viewer: another user's job answers exactly as an unknown one does.
import { and, asc, desc, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import { actingOwnerId, canSee } from '../auth/permissions';
import type { Db } from '../db/client';
import { jobEvents, jobs, jobStages, webhookDeliveries } from '../db/schema/index';
import type { Viewer } from '../auth/viewer';
import { JobNotFoundError } from '../errors/app-errors';
import { pageQuery, toPage } from '../db/pagination';
import type { JobStatus } from './status';
import type { JobRow } from '../db/schema/index';

/**
 * The two reads every subscription starts with (and `job` queries make): built once per database
 * handle. Building a select with drizzle's builder costs more CPU than PostgreSQL spends answering it;
 * 5,000 subscribers connecting at once spent a sixth of the server's time there (BENCHMARKS.md, Events).
 */
function prepareJobReads(db: Db) {
  return {
    job: db
      .select()
      .from(jobs)
      .where(eq(jobs.id, sql.placeholder('id')))
      .prepare('vidq_job_by_id'),
    eventsAfter: db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, sql.placeholder('jobId')), gt(jobEvents.sequence, sql.placeholder('after'))))
      .orderBy(asc(jobEvents.sequence))
      .prepare('vidq_job_events_after'),
  };
}

const preparedReads = new WeakMap<Db, ReturnType<typeof prepareJobReads>>();
function jobReads(db: Db) {
  let reads = preparedReads.get(db);
  if (!reads) preparedReads.set(db, (reads = prepareJobReads(db)));
  return reads;
}

export async function getVisibleJob(db: Db, viewer: Viewer, jobId: string): Promise<JobRow> {
  const [job] = await jobReads(db).job.execute({ id: jobId });
  if (!job || !canSee(viewer, job.ownerId)) throw new JobNotFoundError(jobId);
  return job;
}

export async function listJobs(
  db: Db,
  viewer: Viewer,
  args: { first?: number | null; after?: string | null; status?: JobStatus[] | null; videoId?: string | null; ownerId?: string | null },
) {
  const page = pageQuery(args, { createdAt: jobs.createdAt, id: jobs.id });
  const filters: (SQL | undefined)[] = [page.where];
  // Users list their own jobs; admins everyone's, or one owner's (a user naming another is refused).
  if (args.ownerId) filters.push(eq(jobs.ownerId, actingOwnerId(viewer, args.ownerId)));
  else if (!viewer.isAdmin) filters.push(eq(jobs.ownerId, viewer.id));
  if (args.status?.length) filters.push(inArray(jobs.status, args.status));
  if (args.videoId) filters.push(eq(jobs.videoId, args.videoId));
  const rows = await db
    .select()
    .from(jobs)
    .where(and(...filters))
    .orderBy(...page.orderBy)
    .limit(page.limit);
  return toPage(rows, page.limit);
}

export function stagesOf(db: Db, jobId: string) {
  return db.select().from(jobStages).where(eq(jobStages.jobId, jobId)).orderBy(asc(jobStages.position));
}

export function eventsOf(db: Db, jobId: string, afterSequence = 0) {
  return jobReads(db).eventsAfter.execute({ jobId, after: afterSequence });
}

export function deliveriesOf(db: Db, jobId: string) {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.jobId, jobId)).orderBy(desc(webhookDeliveries.createdAt));
}
