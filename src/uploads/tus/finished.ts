// Finished resumable uploads in the bucket (STORAGE_DRIVER=s3). An upload in progress lives on the disk
// of the API process receiving it (store.ts), and is sent into the bucket under tus/<id>/data while it
// arrives (follow.ts). When its last byte arrives, the rest is put, it is recorded in finished_uploads,
// and the local files go: createVideoFromUpload then works on any API process, so behind a load
// balancer only the PATCHes of one upload need to reach the same process. If the bucket does not take
// it, the upload stays where it is.
import { and, eq, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Config } from '../../config';
import type { Db } from '../../db/client';
import { finishedUploads } from '../../db/schema/index';
import type { Logger } from '../../logger';
import { deleteNowOrLater, deleteRecorded, recordDeletions } from '../../storage/deletions';
import { finishedUploadKey, finishedUploadPrefix } from '../../storage/keys';
import type { FollowedFile, Storage } from '../../storage/types';
import { type TusUpload, tusUploadFile } from './store';

interface Deps {
  config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>;
  db: Db;
  storage: Storage;
  log: Logger;
}

export type FinishedUpload = typeof finishedUploads.$inferSelect;

/** A claim this old (a move into the bucket, a createVideoFromUpload) is a crashed process's: its upload is swept. */
const CLAIM_ABANDONED_AFTER = '1 hour';

/** How long an end that another call is moving waits for that move before it is answered anyway. */
const OTHER_MOVE_WAIT_MS = 5 * 60_000;

/**
 * Puts a finished upload into the bucket and records it (s3 only); the caller then removes the local
 * copy (removeTusUpload) once tus has answered. `takeFollower` hands over the multipart upload that sent
 * it while it arrived (follow.ts; only its last part is left to send), and is called only by the call
 * that moves it. True when this call moved it; false when it stays on this process's disk, or when
 * another call (here, or in another process sharing DATA_DIR/tus, sent the same end) moved it: that call
 * owns the object and removes the local copy. Such a call is waited for, so that this end too is
 * answered once the upload can be made a video.
 */
export async function moveFinishedUpload(deps: Deps, upload: TusUpload, takeFollower: () => FollowedFile | null = () => null): Promise<boolean> {
  if (deps.storage.driver !== 's3' || !upload.ownerId || upload.size === null) {
    await takeFollower()
      ?.cancel()
      .catch(() => {});
    return false;
  }
  const key = finishedUploadKey(upload.id);
  // The row comes first, claimed while the bytes go up (no createVideoFromUpload takes it meanwhile): a
  // second mover finds it and stops before touching the bucket, instead of failing after and deleting
  // the first one's object. One that crashed mid-way is swept like any abandoned claim. The claim's time
  // is this move's token: a row swept and recorded again by another move is not this one's to release.
  const claimedAt = new Date();
  const [mine] = await deps.db
    .insert(finishedUploads)
    .values({
      id: upload.id,
      ownerId: upload.ownerId,
      filename: upload.filename ?? '',
      sizeBytes: upload.size,
      objectKey: key,
      createdAt: upload.createdAt ?? new Date(),
      claimedAt,
    })
    .onConflictDoNothing()
    .returning({ id: finishedUploads.id })
    .catch((error: unknown) => {
      deps.log.warn({ err: error, uploadId: upload.id }, 'a finished upload could not be recorded: it stays on this API process');
      return [];
    });
  if (!mine) {
    await waitForOtherMove(deps, upload.id);
    return false;
  }
  const ours = and(eq(finishedUploads.id, upload.id), eq(finishedUploads.claimedAt, claimedAt));
  try {
    await putWhole(deps, key, upload as TusUpload & { size: number }, takeFollower());
    const [released] = await deps.db.update(finishedUploads).set({ claimedAt: null }).where(ours).returning({ id: finishedUploads.id });
    if (!released) {
      // Swept as abandoned while its bytes went up (a put of over an hour): the object it put goes, unless
      // another move recorded the upload since; the local copy stays.
      if (!(await findAnyFinishedUpload(deps.db, upload.id))) await deleteNowOrLater(deps, finishedUploadPrefix(upload.id));
      return false;
    }
  } catch (error) {
    deps.log.warn({ err: error, uploadId: upload.id }, 'a finished upload could not be moved into the bucket: it stays on this API process');
    await forget(deps, ours).catch((err: unknown) =>
      deps.log.warn({ err, uploadId: upload.id }, 'the record of an upload that was not moved could not be removed; the sweep removes it within an hour'),
    );
    return false;
  }
  return true;
}

/** Until the move another call recorded is over (its claim released, or its row gone), at most OTHER_MOVE_WAIT_MS. */
async function waitForOtherMove(deps: Deps, id: string): Promise<void> {
  const until = Date.now() + OTHER_MOVE_WAIT_MS;
  while (Date.now() < until) {
    const row = await findAnyFinishedUpload(deps.db, id).catch(() => null);
    if (!row || row.claimedAt === null) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  deps.log.warn({ uploadId: id }, 'another move of this finished upload is still running: answering its end without waiting longer');
}

/** The upload's row whatever its claim: being moved, ready, or taken by a createVideoFromUpload. */
export async function findAnyFinishedUpload(db: Db, id: string): Promise<FinishedUpload | null> {
  const [row] = await db.select().from(finishedUploads).where(eq(finishedUploads.id, id));
  return row ?? null;
}

/** Ends the follower, or puts the file whole when there is none or it failed on the way (the bucket was away a moment). */
async function putWhole(deps: Deps, key: string, upload: TusUpload & { size: number }, followed: FollowedFile | null): Promise<void> {
  if (followed) {
    followed.grow(upload.size);
    followed.end();
    try {
      return await followed.done();
    } catch (error) {
      deps.log.warn({ err: error, uploadId: upload.id }, 'the parts sent while the upload arrived were not all taken: putting it whole');
      await followed.cancel().catch(() => {});
    }
  }
  await deps.storage.putFile(key, tusUploadFile(deps.config, upload.id), { contentType: 'application/octet-stream' });
}

/** The finished upload in the bucket, unless a createVideoFromUpload has taken it. */
export async function findFinishedUpload(db: Db, id: string): Promise<FinishedUpload | null> {
  const [row] = await db
    .select()
    .from(finishedUploads)
    .where(and(eq(finishedUploads.id, id), isNull(finishedUploads.claimedAt)));
  return row ?? null;
}

/** Takes it for one caller only; null when another took it first. */
export async function claimFinishedUpload(db: Db, id: string): Promise<FinishedUpload | null> {
  const [row] = await db
    .update(finishedUploads)
    .set({ claimedAt: new Date() })
    .where(and(eq(finishedUploads.id, id), isNull(finishedUploads.claimedAt)))
    .returning();
  return row ?? null;
}

/** Gives a claimed upload back (its createVideoFromUpload failed for a reason of the service's). */
export async function releaseFinishedUpload(db: Db, id: string): Promise<void> {
  await db.update(finishedUploads).set({ claimedAt: null }).where(eq(finishedUploads.id, id));
}

/** Removes finished uploads, row and object (consumed, refused or expired). */
async function forget(deps: Omit<Deps, 'config'>, where: SQL | undefined): Promise<string[]> {
  const removed = await deps.db.transaction(async (tx) => {
    const rows = await tx.delete(finishedUploads).where(where).returning({ id: finishedUploads.id });
    await recordDeletions(
      tx,
      rows.map((row) => finishedUploadPrefix(row.id)),
    );
    return rows.map((row) => row.id);
  });
  await deleteRecorded(deps, removed.map(finishedUploadPrefix));
  return removed;
}

export async function forgetFinishedUpload(deps: Omit<Deps, 'config'>, id: string): Promise<void> {
  await forget(deps, eq(finishedUploads.id, id));
}

/** Finished uploads past UPLOAD_EXPIRY_HOURS, and those of createVideoFromUpload calls that crashed. */
export async function sweepExpiredFinishedUploads(deps: Deps): Promise<string[]> {
  return forget(
    deps,
    or(
      lt(finishedUploads.createdAt, sql`now() - ${deps.config.uploadExpiryHours} * interval '1 hour'`),
      lt(finishedUploads.claimedAt, sql`now() - interval '${sql.raw(CLAIM_ABANDONED_AFTER)}'`),
    ),
  );
}
