// uploadVideo: checks in a fixed order, each failure a typed error, and whatever fails, no row, no
// stored file and no temp file are left behind.
//   1. fields (file present and alone, title, recordedAt, idempotencyKey)  → InvalidInputError
//   2. owner (admins may name another, existing user)                      → ForbiddenError / InvalidInputError
//   3. idempotency key seen before                                         → the first video, nothing stored
//   4. extension (a name without one, e.g. a Blob's, is decided by step 5)  → UnsupportedFormatError
//   5. the file's first bytes                                              → UnsupportedFormatError
//   6. size, as soon as MAX_FILE_SIZE_MB is passed                         → FileTooLargeError
//   7. ffprobe + a decode of both ends                                     → VideoCorruptError
// createVideoFromUpload (uploads/tus/create-video.ts) runs the same steps on a finished tus upload.
import { type EarlyHeadCheck, startEarlyHeadCheck } from './early-head';
import { type EarlyTailCheck, startEarlyTailCheck } from './early-tail';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { FileUpload } from 'graphql-upload-ts';
import { newId } from '../db/ids';
import type { GraphQLContext } from '../graphql/context';
import type { Logger } from '../logger';
import { type FieldError, FileTooLargeError, InvalidInputError, UnsupportedFormatError, VideoCorruptError } from '../errors/app-errors';
import { InvalidDateTime } from '../graphql/date-time';
import { PermanentStageError, probeAndVerify, resolveBinaries, TransientStageError } from '../pipeline/index';
import { MachineFailureError } from '../server/unavailable';
import type { VideoMetadata } from '../pipeline/types';
import {
  CONTENT_TYPES,
  contentMismatchDetail,
  extensionDetail,
  extensionOf,
  isSupportedFormat,
  sanitizeFilename,
  sniffContainer,
  unnamedContentDetail,
  SUPPORTED_FORMATS,
  type VideoFormat,
} from './formats';
import { MAX_FIELD_BYTES, uploadRequestInfo, type UploadRequestInfo } from './upload-request';
import { type StreamedFile, streamedFile, UploadStreamError } from './multipart-parser';
import { findByIdempotencyKey, insertVideo, resolveUploadOwner } from './queries';
import type { VideoRow } from '../db/schema/index';
import { type FollowedFile, MAX_COPY_BYTES } from '../storage/types';
import { receiveToFile, SizeLimitExceeded, tempUploadPath } from './receive';
import { deleteNowOrLater } from '../storage/deletions';
import { storedVideoKey, storedVideoPrefix } from '../storage/keys';

export interface UploadVideoInput {
  file: Promise<FileUpload>;
  title?: string | null;
  ownerId?: string | null;
  recordedAt?: Date | InvalidDateTime | null;
  idempotencyKey?: string | null;
}

export const MAX_TITLE_CHARS = 200;
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;
const MiB = 1024 * 1024;

/** The client went away or the body ended before the file did. */
function interrupted(error: UploadStreamError): InvalidInputError {
  return new InvalidInputError([{ path: ['input', 'file'], message: `the request ended before the whole file arrived (${error.message})` }]);
}

function tooLarge(maxBytes: number, maxMb: number, info: UploadRequestInfo | undefined, atLeast: number): FileTooLargeError {
  // The stream is cut at the limit, so the true size is known only from the declared Content-Length
  // (minus the JSON fields around the file). Claim a number only when it is clearly over the limit.
  const estimate = info?.contentLength != null ? Math.max(atLeast, info.contentLength - info.overheadEstimate) : null;
  const mb = estimate !== null ? Math.round(estimate / MiB) : null;
  const size = mb !== null && mb > maxMb ? `${mb} MB` : `more than ${maxMb} MB`;
  return new FileTooLargeError(maxBytes, `File size is ${size}. Maximum allowed is ${maxMb} MB.`);
}

export function validateFields(input: Omit<UploadVideoInput, 'file'>): FieldError[] {
  const errors: FieldError[] = [];
  if (input.title != null) {
    const chars = Array.from(input.title.trim()).length;
    if (chars === 0) errors.push({ path: ['input', 'title'], message: 'must not be empty (leave it out instead)' });
    if (chars > MAX_TITLE_CHARS) {
      errors.push({ path: ['input', 'title'], message: `must be at most ${MAX_TITLE_CHARS} characters (got ${chars})` });
    }
  }
  if (input.recordedAt instanceof InvalidDateTime) {
    errors.push({
      path: ['input', 'recordedAt'],
      message: `must be an ISO-8601 timestamp with a time zone, e.g. 2026-04-20T10:00:00Z (got ${JSON.stringify(input.recordedAt.received)})`,
    });
  }
  if (input.idempotencyKey != null) {
    const key = input.idempotencyKey;
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_CHARS || /[\u0000-\u001f\u007f]/.test(key)) {
      errors.push({
        path: ['input', 'idempotencyKey'],
        message: `must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} printable characters`,
      });
    }
  }
  return errors;
}

/** The file, or why there is none. Not awaited for a request with several files: none is read then. */
async function awaitFile(input: UploadVideoInput, info: UploadRequestInfo | undefined): Promise<StreamedFile | FieldError> {
  if (info && info.files > 1) {
    return { path: ['input', 'file'], message: `send exactly one file per request; this request carried ${info.files}` };
  }
  try {
    return await streamedFile(input.file);
  } catch (error) {
    if (error instanceof UploadStreamError && error.reason === 'interrupted') {
      return { path: ['input', 'file'], message: `the request ended before the file arrived (${error.message})` };
    }
    if (error instanceof UploadStreamError) return { path: ['input', 'file'], message: 'no file was sent for this field' };
    throw error;
  }
}

/**
 * What ffprobe and the decoder say, with the temp file's name replaced by the client's. The head, and
 * the tail of an MP4 whose moov comes first, may have been decoded while the file arrived
 * (early-head.ts, early-tail.ts); what is left runs side by side.
 */
async function inspectVideo(
  file: string,
  format: VideoFormat,
  filename: string,
  ctx: GraphQLContext,
  early: { head?: EarlyHeadCheck | null; tail?: EarlyTailCheck | null } = {},
): Promise<VideoMetadata> {
  const { ffmpeg, ffprobe } = resolveBinaries(ctx.services.config);
  try {
    const durationInHeader = format === 'mp4' || format === 'mov';
    return await probeAndVerify(file, { ffmpeg, ffprobe, durationInHeader, head: early.head?.result, tail: early.tail?.result });
  } catch (error) {
    if (error instanceof PermanentStageError && error.code === 'VIDEO_CORRUPT') {
      throw new VideoCorruptError(error.detail.split(path.basename(file)).join(filename));
    }
    // Out of threads, file descriptors or memory, an I/O error, killed by a signal: not the file's
    // fault, and likely to pass (503, retryable; the cause is logged).
    if (error instanceof TransientStageError) throw new MachineFailureError('This server could not check the video', { cause: error });
    throw error; // ffprobe missing or misconfigured: not the file's fault either (masked, logged)
  }
}

export interface Attempt {
  ctx: GraphQLContext;
  videoId: string;
  info: UploadRequestInfo | undefined;
  log: Logger;
  elapsedMs(): number;
}

/**
 * Step 5: the container the first bytes show, which must be a supported one (and, when the name has an
 * extension, of its family: a PNG named .mp4 is refused).
 */
export function formatOfHead(head: Buffer, ext: VideoFormat | null): VideoFormat {
  const sniffed = sniffContainer(head);
  if (sniffed.kind === 'other') {
    throw new UnsupportedFormatError(ext ? contentMismatchDetail(ext, sniffed.description) : unnamedContentDetail(sniffed.description), SUPPORTED_FORMATS);
  }
  return sniffed.format;
}

/**
 * Steps 5 and 6: the file into a temp file, its head sniffed first, its size counted. Once the head has
 * shown the format, the head's decode check and (remote storage) the put into the bucket follow the
 * temp file as it grows.
 */
async function receive(attempt: Attempt, file: StreamedFile, ext: VideoFormat | null) {
  const { config, storage } = attempt.ctx.services;
  const { info, log } = attempt;
  const maxBytes = config.maxFileSizeBytes;
  const refuseSize = () => tooLarge(maxBytes, config.maxFileSizeMb, info, maxBytes + 1);
  let format: VideoFormat | null = ext;
  let tempPath: string | undefined;
  // Set in inspectHead: TypeScript cannot see that callback run, hence the declared types below.
  let earlyHead = null as EarlyHeadCheck | null;
  let earlyTail = null as EarlyTailCheck | null;
  let earlyPut = null as FollowedFile | null;
  try {
    const source = file.createReadStream();
    tempPath = await tempUploadPath(config, attempt.videoId);
    const received = await receiveToFile(source, tempPath, {
      maxBytes,
      inspectHead(head) {
        const sniffed = formatOfHead(head, ext);
        format = sniffed;
        // A declared length far over the limit (more than any JSON fields could explain) is refused now.
        if (info?.contentLength != null && info.contentLength - 2 * MAX_FIELD_BYTES - 64 * 1024 > maxBytes) throw refuseSize();
        earlyHead = startEarlyHeadCheck(head, sniffed, tempPath!, resolveBinaries(config).ffmpeg);
        const expectedBytes = info?.contentLength != null ? info.contentLength - info.overheadEstimate : null;
        earlyTail = startEarlyTailCheck(head, sniffed, tempPath!, resolveBinaries(config).ffmpeg, expectedBytes);
        // Remote storage: the file goes into the bucket as it arrives, so only its last part is left to send.
        earlyPut = storage.followFile(storedVideoKey(attempt.videoId, sniffed), tempPath!, { contentType: CONTENT_TYPES[sniffed] });
      },
      onWritten(bytes) {
        earlyHead?.grow(bytes);
        earlyTail?.grow(bytes);
        earlyPut?.grow(bytes);
      },
    });
    if (!format) throw new Error('the head of the upload was never inspected'); // receiveToFile always inspects it
    earlyHead?.end();
    earlyTail?.end();
    earlyPut?.end();
    return { ...received, format, tempPath, earlyHead, earlyTail, earlyPut };
  } catch (error) {
    earlyHead?.abandon();
    earlyTail?.abandon();
    await cancelEarlyPut(earlyPut, attempt);
    if (tempPath) await rm(tempPath, { force: true });
    let refusal = error;
    // The request's own failure (the client left, the body broke off) explains a stream error best.
    const broken = error instanceof UploadStreamError ? error : file.failure();
    if (error instanceof SizeLimitExceeded) {
      refusal = refuseSize();
    } else if (broken) {
      log.info({ reason: broken.message, ms: attempt.elapsedMs() }, 'upload interrupted: the client went away');
      throw interrupted(broken);
    }
    if (refusal instanceof UnsupportedFormatError || refusal instanceof FileTooLargeError) {
      log.info({ code: refusal.code, detail: refusal.detail, ms: attempt.elapsedMs() }, 'upload refused');
    }
    throw refusal;
  }
}

/**
 * Stops a put into the bucket begun while the upload arrived. An object it could not delete is deleted
 * again, or recorded for the maintenance job (storage/deletions.ts).
 */
async function cancelEarlyPut(earlyPut: FollowedFile | null | undefined, attempt: Attempt): Promise<void> {
  await earlyPut?.cancel().catch(async (error: unknown) => {
    attempt.log.warn({ err: error }, 'could not stop the put of a refused upload: deleting its object again');
    const { database, storage } = attempt.ctx.services;
    await deleteNowOrLater({ db: database.db, storage, log: attempt.log }, storedVideoPrefix(attempt.videoId));
  });
}

export async function uploadVideo(ctx: GraphQLContext, input: UploadVideoInput): Promise<VideoRow> {
  const { database } = ctx.services;
  const db = database.db;
  const info = uploadRequestInfo(input.file);
  const startedAt = info?.startedAt ?? process.hrtime.bigint();
  const videoId = newId('vid');
  const attempt: Attempt = {
    ctx,
    videoId,
    info,
    log: ctx.log().child({ videoId }),
    elapsedMs: () => Math.round(Number(process.hrtime.bigint() - startedAt) / 1e6),
  };

  // 1. Fields.
  const fieldErrors = validateFields(input);
  const file = await awaitFile(input, info);
  if (!('createReadStream' in file)) fieldErrors.unshift(file);
  if (fieldErrors.length > 0 || !('createReadStream' in file)) throw new InvalidInputError(fieldErrors);
  const filename = sanitizeFilename(file.filename);
  attempt.log = attempt.log.child({ filename });
  const { log } = attempt;

  // 2. Owner.
  const ownerId = await resolveUploadOwner(db, ctx.viewer, input.ownerId);

  // 3. Idempotency: a repeat returns the first video; the file it carries is discarded unread.
  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey) {
    const existing = await findByIdempotencyKey(db, ownerId, idempotencyKey);
    if (existing) {
      log.info({ existingVideoId: existing.id, idempotencyKey }, 'upload repeated with a known idempotency key: returning the first video');
      return existing;
    }
  }

  // 4. Extension.
  const ext = extensionOf(filename);
  if (ext !== null && !isSupportedFormat(ext)) throw new UnsupportedFormatError(extensionDetail(ext), SUPPORTED_FORMATS);

  // 5 + 6. Bytes and size.
  const received = await receive(attempt, file, ext);
  const receiveMs = attempt.elapsedMs();
  // A name without an extension (a Blob's "blob") gets the one its bytes showed.
  const storedName = ext === null ? `${filename}.${received.format}` : filename;

  // 7. Can the decoder read it? Then store it under its generated name, and the row.
  return storeCheckedVideo(attempt, { ownerId, filename: storedName, title: input.title, recordedAt: input.recordedAt, idempotencyKey }, received, receiveMs);
}

export interface ReceivedFile {
  tempPath: string;
  format: VideoFormat;
  sizeBytes: number;
  sha256: string;
  /** The head check started while the file arrived, if its container allowed it. */
  earlyHead?: EarlyHeadCheck | null;
  /** The tail check started while the last of the file arrived (an MP4/MOV with its moov first). */
  earlyTail?: EarlyTailCheck | null;
  /** The put into remote storage started while the file arrived. */
  earlyPut?: FollowedFile | null;
  /** The same bytes already in storage under this key (a finished resumable upload in the bucket): copied, not put again. */
  storedAs?: string | null;
}

/**
 * Step 7, and the video stored: ffprobe and the decode check on the received temp file, then the file
 * into storage and the row. Whatever fails, nothing is kept (the temp file always goes).
 */
export async function storeCheckedVideo(
  attempt: Attempt,
  fields: { ownerId: string; filename: string; title?: string | null; recordedAt?: Date | InvalidDateTime | null; idempotencyKey: string | null },
  received: ReceivedFile,
  receiveMs: number,
): Promise<VideoRow> {
  const { ctx, videoId, log } = attempt;
  const { database, storage } = ctx.services;
  const db = database.db;
  const { ownerId, filename, idempotencyKey } = fields;
  const { format, tempPath } = received;
  const storagePath = storedVideoKey(videoId, format);
  let stored = false;
  try {
    const metadata = await inspectVideo(tempPath, format, filename, ctx, { head: received.earlyHead, tail: received.earlyTail });
    if (received.earlyPut) await received.earlyPut.done();
    else if (received.storedAs && received.sizeBytes <= MAX_COPY_BYTES)
      await storage.copy(received.storedAs, storagePath, { contentType: CONTENT_TYPES[format] });
    else await storage.putFile(storagePath, tempPath, { move: true, contentType: CONTENT_TYPES[format] });
    stored = true;
    const row = await insertVideo(db, {
      id: videoId,
      ownerId,
      filename,
      title: fields.title?.trim() || null,
      format,
      contentType: CONTENT_TYPES[format],
      sizeBytes: received.sizeBytes,
      sha256: received.sha256,
      storagePath,
      metadata,
      recordedAt: fields.recordedAt instanceof Date ? fields.recordedAt : null,
      idempotencyKey,
    });
    if (!row) {
      // A concurrent upload with the same idempotency key committed first: it is the answer.
      stored = false;
      await deleteNowOrLater({ db, storage, log }, storedVideoPrefix(videoId));
      const winner = await findByIdempotencyKey(db, ownerId, idempotencyKey!);
      if (!winner) throw new Error('idempotency conflict without a winning row');
      log.info({ existingVideoId: winner.id, idempotencyKey }, 'concurrent upload with the same idempotency key won: returning it');
      return winner;
    }
    log.info(
      {
        ownerId,
        sizeBytes: row.sizeBytes,
        format,
        durationSeconds: metadata.durationSeconds,
        receiveMs,
        totalMs: attempt.elapsedMs(),
        mbPerSecond: Math.round((row.sizeBytes / MiB / Math.max(receiveMs, 1)) * 1000 * 10) / 10,
      },
      'video uploaded',
    );
    return row;
  } catch (error) {
    // A check that failed before the early checks' results were read: no stray ffmpeg.
    received.earlyHead?.abandon();
    received.earlyTail?.abandon();
    if (!stored) await cancelEarlyPut(received.earlyPut, attempt);
    if (stored) await deleteNowOrLater({ db, storage, log }, storedVideoPrefix(videoId));
    if (error instanceof VideoCorruptError) log.info({ code: error.code, detail: error.detail, ms: attempt.elapsedMs() }, 'upload refused');
    throw error;
  } finally {
    await rm(tempPath, { force: true });
  }
}
