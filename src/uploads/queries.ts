// Reading and deleting videos, with the visibility rule applied: another user's video answers
// exactly like an unknown id. The jobs domain uses getVisibleVideo.
import { and, eq, type SQL } from 'drizzle-orm';
import { actingOwnerId, canSee } from '../auth/permissions';
import { ACTIVE_STATUSES } from '../jobs/status';
import { findUser } from '../auth/users';
import type { Db } from '../db/client';
import { jobs, videos } from '../db/schema/index';
import type { Viewer } from '../auth/viewer';
import { InvalidInputError, JobAlreadyProcessingError, VideoNotFoundError } from '../errors/app-errors';
import { pageQuery, toPage } from '../db/pagination';
import type { Storage } from '../storage/types';
import { deleteRecorded, recordDeletions } from '../storage/deletions';
import { jobOutputsPrefix, storedVideoPrefix } from '../storage/keys';
import type { Logger } from '../logger';
import type { VideoRow } from '../db/schema/index';

/** The video, if the viewer may see it; VideoNotFoundError otherwise (unknown and foreign alike). */
export async function getVisibleVideo(db: Db, viewer: Viewer, id: string): Promise<VideoRow> {
  const [row] = await db.select().from(videos).where(eq(videos.id, id));
  if (!row || !canSee(viewer, row.ownerId)) throw new VideoNotFoundError(id);
  return row;
}

export async function findByIdempotencyKey(db: Db, ownerId: string, key: string): Promise<VideoRow | null> {
  const [row] = await db
    .select()
    .from(videos)
    .where(and(eq(videos.ownerId, ownerId), eq(videos.idempotencyKey, key)));
  return row ?? null;
}

/**
 * Inserts the row; null when the owner already has a video with this idempotency key (a concurrent
 * upload won the race).
 */
export async function insertVideo(db: Db, row: typeof videos.$inferInsert): Promise<VideoRow | null> {
  const [inserted] = await db
    .insert(videos)
    .values(row)
    .onConflictDoNothing({ target: [videos.ownerId, videos.idempotencyKey] })
    .returning();
  return inserted ?? null;
}

export interface VideoListArgs {
  first?: number | null;
  after?: string | null;
  ownerId?: string | null;
}

/** Newest first. Admins: everyone's, or one owner's; users: their own (naming another is forbidden). */
export async function listVideos(db: Db, viewer: Viewer, args: VideoListArgs) {
  const page = pageQuery(args, { createdAt: videos.createdAt, id: videos.id });
  const filters: (SQL | undefined)[] = [page.where];
  if (viewer.isAdmin && !args.ownerId) {
    // every owner
  } else {
    filters.push(eq(videos.ownerId, actingOwnerId(viewer, args.ownerId)));
  }
  const rows = await db
    .select()
    .from(videos)
    .where(and(...filters))
    .orderBy(...page.orderBy)
    .limit(page.limit);
  return toPage(rows, page.limit);
}

/** The owner a new upload belongs to: the viewer, or (admins) an existing user they name. */
export async function resolveUploadOwner(db: Db, viewer: Viewer, ownerId: string | null | undefined): Promise<string> {
  const owner = actingOwnerId(viewer, ownerId);
  if (owner !== viewer.id && !(await findUser(db, owner))) {
    throw new InvalidInputError([{ path: ['input', 'ownerId'], message: `no user with id '${owner}' exists` }]);
  }
  return owner;
}

const JOB_ID = /^job_[0-9a-z]+$/;

/**
 * Deletes a video, its jobs (rows cascade) and their files. Refused while one of its jobs is QUEUED or
 * PROCESSING. The video row is locked first, so a job submitted at the same moment either commits
 * before (and is seen here) or fails on the missing video afterwards. The files' prefixes are recorded
 * in the same transaction and deleted after the commit: a storage that fails then leaves them for the
 * maintenance job, never a row without its file nor a file nobody deletes.
 */
export async function deleteVideo(deps: { db: Db; storage: Storage; log: Logger }, viewer: Viewer, id: string): Promise<{ row: VideoRow; jobIds: string[] }> {
  const result = await deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(videos).where(eq(videos.id, id)).for('update');
    if (!row || !canSee(viewer, row.ownerId)) throw new VideoNotFoundError(id);
    const videoJobs = await tx.select({ id: jobs.id, status: jobs.status }).from(jobs).where(eq(jobs.videoId, id));
    const active = videoJobs.find((j) => (ACTIVE_STATUSES as readonly string[]).includes(j.status));
    if (active) throw new JobAlreadyProcessingError(active.id, id);
    await tx.delete(videos).where(eq(videos.id, id)); // its jobs, stages and events cascade
    const jobIds = videoJobs.map((j) => j.id);
    const prefixes = [storedVideoPrefix(row.id), ...jobIds.filter((jobId) => JOB_ID.test(jobId)).map(jobOutputsPrefix)];
    await recordDeletions(tx, prefixes);
    return { row, jobIds, prefixes };
  });
  await deleteRecorded(deps, result.prefixes);
  return { row: result.row, jobIds: result.jobIds };
}

/** Sets a video's title (already checked with validateFields); an empty one clears it. */
export async function renameVideo(db: Db, id: string, title: string): Promise<void> {
  await db
    .update(videos)
    .set({ title: title.trim() || null })
    .where(eq(videos.id, id));
}
