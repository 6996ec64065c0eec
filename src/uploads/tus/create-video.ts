// createVideoFromUpload: a finished tus upload becomes a video through exactly uploadVideo's checks
// (upload.ts). The order:
//   1. fields (uploadId, title, recordedAt, idempotencyKey)  → InvalidInputError
//   2. owner (admins may name another, existing user)        → ForbiddenError / InvalidInputError
//   3. idempotency key seen before                           → the first video (the upload is left as is)
//   4. the upload: the caller's, not expired, not consumed   → UploadNotFoundError
//   5. all of its bytes received                             → UploadIncompleteError (offset, length)
//   6. then, as for uploadVideo: extension, first bytes, size, ffprobe and the decode check.
// From step 6 on the upload is consumed: on success its bytes belong to the video; on a refusal it is
// removed and nothing is stored. The upload is on this API process's disk, or (s3) in the bucket, moved
// there by whichever API process received its last byte (finished.ts).
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { rm } from 'node:fs/promises';
import { newId } from '../../db/ids';
import type { VideoRow } from '../../db/schema/index';
import { AppError, FileTooLargeError, InvalidInputError, UnsupportedFormatError, UploadIncompleteError, UploadNotFoundError } from '../../errors/app-errors';
import type { InvalidDateTime } from '../../graphql/date-time';
import type { GraphQLContext } from '../../graphql/context';
import { extensionDetail, extensionOf, isSupportedFormat, sanitizeFilename, SUPPORTED_FORMATS, type VideoFormat } from '../formats';
import { findByIdempotencyKey, resolveUploadOwner } from '../queries';
import { receiveToFile, SizeLimitExceeded, tempUploadPath } from '../receive';
import { type Attempt, formatOfHead, storeCheckedVideo, validateFields } from '../upload';
import { claimFinishedUpload, findAnyFinishedUpload, findFinishedUpload, forgetFinishedUpload, releaseFinishedUpload } from './finished';
import { claimTusUpload, findTusUpload, isUploadId, removeTusUpload } from './store';

export interface CreateVideoFromUploadInput {
  uploadId: string;
  title?: string | null;
  ownerId?: string | null;
  recordedAt?: Date | InvalidDateTime | null;
  idempotencyKey?: string | null;
}

export async function createVideoFromUpload(ctx: GraphQLContext, input: CreateVideoFromUploadInput): Promise<VideoRow> {
  const { config, database } = ctx.services;
  const db = database.db;
  const started = process.hrtime.bigint();
  const videoId = newId('vid');
  const attempt: Attempt = {
    ctx,
    videoId,
    info: undefined,
    log: ctx.log().child({ videoId, uploadId: input.uploadId }),
    elapsedMs: () => Math.round(Number(process.hrtime.bigint() - started) / 1e6),
  };

  // 1–3. Fields, owner, idempotency: as uploadVideo.
  const fieldErrors = validateFields(input);
  if (!isUploadId(input.uploadId))
    fieldErrors.unshift({ path: ['input', 'uploadId'], message: 'is not an upload id: use the last path segment of the tus Location URL (upl_…)' });
  if (fieldErrors.length) throw new InvalidInputError(fieldErrors);
  const ownerId = await resolveUploadOwner(db, ctx.viewer, input.ownerId);
  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey) {
    const existing = await findByIdempotencyKey(db, ownerId, idempotencyKey);
    if (existing) {
      attempt.log.info(
        { existingVideoId: existing.id, idempotencyKey },
        'createVideoFromUpload repeated with a known idempotency key: returning the first video',
      );
      return existing;
    }
  }

  // 4–5. The upload: the caller's (whoever the video is for), finished; on this process's disk, or (s3)
  // moved into the bucket by the process that received it.
  const source = (await claimLocalUpload(ctx, input.uploadId)) ?? (await claimFinishedUploadInBucket(ctx, input.uploadId));

  // 6. Extension, first bytes and size while the bytes are copied (hashed) to a temp file.
  const filename = sanitizeFilename(source.filename);
  const log = (attempt.log = attempt.log.child({ filename }));
  let tempPath: string | undefined;
  try {
    const ext = extensionOf(filename);
    if (!isSupportedFormat(ext)) throw new UnsupportedFormatError(extensionDetail(ext), SUPPORTED_FORMATS);
    let format: VideoFormat = ext;
    tempPath = await tempUploadPath(config, videoId);
    const received = await receiveToFile(await source.open(), tempPath, {
      maxBytes: config.maxFileSizeBytes,
      inspectHead(head) {
        format = formatOfHead(head, ext);
      },
    });
    const video = await storeCheckedVideo(
      attempt,
      { ownerId, filename, title: input.title, recordedAt: input.recordedAt, idempotencyKey },
      { ...received, format, tempPath, storedAs: source.storedAs },
      0,
    );
    await source.consumed();
    return video;
  } catch (error) {
    if (tempPath) await rm(tempPath, { force: true });
    // A refusal uses the upload up; anything else (the bucket or the database failing) leaves it to be
    // tried again when it can be kept.
    const refused = error instanceof AppError || error instanceof SizeLimitExceeded;
    await (refused ? source.consumed() : source.released()).catch((err: unknown) =>
      log.warn({ err }, 'the upload could not be given back or removed: the expiry sweep removes it'),
    );
    if (error instanceof SizeLimitExceeded) {
      throw new FileTooLargeError(config.maxFileSizeBytes, `File size is more than ${config.maxFileSizeMb} MB. Maximum allowed is ${config.maxFileSizeMb} MB.`);
    }
    if (error instanceof UnsupportedFormatError) log.info({ code: error.code, detail: error.detail }, 'upload refused');
    throw error;
  }
}

/** A finished upload taken by one createVideoFromUpload: its bytes, and what removes them afterwards. */
interface ClaimedUpload {
  filename: string | null;
  /** Its key when its bytes are in the bucket: the video's source is copied from there. */
  storedAs: string | null;
  open(): Promise<Readable>;
  /** The upload is used up (made a video, or refused): nothing of it stays. Idempotent. */
  consumed(): Promise<void>;
  /** The call failed for a reason of the service's: the upload stays for another try where it can. */
  released(): Promise<void>;
}

/** The upload on this process's disk, claimed; null when it is not here (UploadIncompleteError while unfinished). */
async function claimLocalUpload(ctx: GraphQLContext, id: string): Promise<ClaimedUpload | null> {
  const { config, database } = ctx.services;
  const upload = await findTusUpload(config, id);
  if (!upload) return null;
  // Moved into the bucket (or being moved, by this process or another sharing DATA_DIR/tus): the local
  // copy is about to go, and the upload is the bucket's to hand out, once.
  if (await findAnyFinishedUpload(database.db, id)) return null;
  if (upload.ownerId !== ctx.viewer.id) throw new UploadNotFoundError(id);
  if (upload.size === null || upload.offset < upload.size) throw new UploadIncompleteError(upload.id, upload.offset, upload.size);
  const claimed = await claimTusUpload(config, upload.id);
  if (!claimed) throw new UploadNotFoundError(id); // another call took it a moment ago
  return {
    filename: upload.filename,
    storedAs: null,
    open: async () => createReadStream(claimed),
    consumed: () => removeTusUpload(config, upload.id),
    released: () => removeTusUpload(config, upload.id), // its record went at the claim: it cannot be taken back
  };
}

/** The upload another API process moved into the bucket, claimed; UploadNotFoundError when there is none. */
async function claimFinishedUploadInBucket(ctx: GraphQLContext, id: string): Promise<ClaimedUpload> {
  const { database, storage, log } = ctx.services;
  const found = await findFinishedUpload(database.db, id);
  if (!found || found.ownerId !== ctx.viewer.id) throw new UploadNotFoundError(id);
  const claimed = await claimFinishedUpload(database.db, id);
  if (!claimed) throw new UploadNotFoundError(id); // another call took it a moment ago
  const deps = { db: database.db, storage, log };
  return {
    filename: claimed.filename,
    storedAs: claimed.objectKey,
    async open() {
      const object = await storage.get(claimed.objectKey);
      if (!object) {
        await forgetFinishedUpload(deps, id);
        throw new UploadNotFoundError(id);
      }
      return object.body;
    },
    // A copy still on this disk (its mover removes it after its answer) goes too: it cannot become a second video.
    consumed: async () => {
      await forgetFinishedUpload(deps, id);
      await removeTusUpload(ctx.services.config, id);
    },
    released: () => releaseFinishedUpload(database.db, id),
  };
}
