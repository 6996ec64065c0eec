// Where uploaded files live and how they get there: streamed into DATA_DIR/uploads/.tmp under a
// generated name (hashing and counting on the way, the head checked before anything is written),
// then renamed to DATA_DIR/uploads/<videoId>/source.<ext>. Nothing here knows the client's filename.
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { finished, type Readable, Writable } from 'node:stream';
import type { Config } from '../config';
import { dataPaths } from '../config';
import { HEAD_BYTES, type VideoFormat } from './formats';

/** Buffering of each stage of an upload's stream (busboy's file stream, the file sink). */
export const IO_CHUNK_BYTES = 1024 * 1024;

/** Thrown by the receiving stream when more than maxBytes arrive. */
export class SizeLimitExceeded extends Error {
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes`);
  }
}

export interface Received {
  sizeBytes: number;
  sha256: string;
}

export interface ReceiveOptions {
  maxBytes: number;
  /** Sees the first HEAD_BYTES bytes (fewer if the file is shorter) before any is written; throws to refuse. */
  inspectHead(head: Buffer): void;
}

/** Writes every byte of `buffers` at `position`, however many calls the kernel needs. */
async function writeAll(file: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest, position);
    position += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0].length) skip -= rest.shift()!.length;
    if (skip > 0) rest = [rest[0].subarray(skip), ...rest.slice(1)];
  }
}

/**
 * Streams `source` to `dest` (created exclusively) through one Writable that counts, hashes (SHA-256)
 * and writes with writev: each stream stage costs CPU per chunk, and this one stage keeps the upload
 * as cheap as a plain pipe to disk (bench/uploads.ts). The head is inspected before anything is
 * written; more than maxBytes is refused. On failure `dest` is removed and `source` is not destroyed
 * but drained (a multipart parser must keep reading the request), and the error rethrown.
 */
export async function receiveToFile(source: Readable, dest: string, opts: ReceiveOptions): Promise<Received> {
  const file = await open(dest, 'wx');
  const hash = createHash('sha256');
  let size = 0;
  let written = 0;
  let held: Buffer[] | null = []; // chunks kept back until the head has been inspected
  const accept = (chunks: Buffer[]): Buffer[] => {
    const out: Buffer[] = [];
    for (const chunk of chunks) {
      size += chunk.length;
      if (size > opts.maxBytes) throw new SizeLimitExceeded(opts.maxBytes);
      if (held) {
        held.push(chunk);
        if (size < HEAD_BYTES) continue;
        out.push(...releaseHead());
      } else {
        hash.update(chunk);
        out.push(chunk);
      }
    }
    return out;
  };
  const releaseHead = (): Buffer[] => {
    const chunks = held!;
    held = null;
    opts.inspectHead(Buffer.concat(chunks).subarray(0, HEAD_BYTES));
    for (const chunk of chunks) hash.update(chunk);
    return chunks;
  };
  const write = async (buffers: Buffer[]) => {
    if (buffers.length === 0) return;
    const at = written;
    written += buffers.reduce((n, b) => n + b.length, 0);
    await writeAll(file, buffers, at);
  };
  const sink = new Writable({
    highWaterMark: IO_CHUNK_BYTES,
    writev(chunks, done) {
      try {
        write(accept(chunks.map((c) => c.chunk as Buffer))).then(() => done(), done);
      } catch (error) {
        done(error as Error);
      }
    },
    final(done) {
      try {
        write(held ? releaseHead() : []).then(() => done(), done);
      } catch (error) {
        done(error as Error);
      }
    },
  });
  let complete = false;
  try {
    await new Promise<void>((resolve, reject) => {
      // The source may have failed already (the client half-closed the request while the temp file
      // was being opened): piping a destroyed stream never settles. finished() reports that at once,
      // and any later premature close or error too.
      finished(source, { writable: false }, (error) => error && reject(error));
      sink.once('error', reject);
      sink.once('finish', resolve);
      source.pipe(sink);
    });
    complete = true;
    return { sizeBytes: size, sha256: hash.digest('hex') };
  } catch (error) {
    source.unpipe(sink);
    if (!source.destroyed) source.resume();
    sink.destroy();
    throw error;
  } finally {
    await file.close(); // waits for a write still in flight
    if (!complete) await rm(dest, { force: true });
  }
}

/** A fresh temp file name for an upload in progress. */
export async function tempUploadPath(config: Pick<Config, 'dataDir'>, videoId: string): Promise<string> {
  const dir = dataPaths(config).uploadsTmp;
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${videoId}.${randomBytes(4).toString('hex')}.part`);
}

/** Where a video's source is stored, relative to DATA_DIR (the form kept in videos.storage_path). */
export function storagePathFor(videoId: string, format: VideoFormat): string {
  return path.posix.join('uploads', videoId, `source.${format}`);
}

/** Absolute path of a stored file, refusing anything that would leave DATA_DIR/uploads. */
export function absoluteStoragePath(config: Pick<Config, 'dataDir'>, storagePath: string): string {
  const uploads = dataPaths(config).uploads;
  const abs = path.resolve(config.dataDir, storagePath);
  if (!abs.startsWith(uploads + path.sep)) throw new Error(`storage path escapes the uploads directory: ${storagePath}`);
  return abs;
}

/** Moves a received temp file into its final place. */
export async function storeUpload(config: Pick<Config, 'dataDir'>, tempPath: string, storagePath: string): Promise<void> {
  const dest = absoluteStoragePath(config, storagePath);
  await mkdir(path.dirname(dest), { recursive: true });
  await rename(tempPath, dest);
}

/** Removes a video's directory (its source and anything else stored beside it). */
export async function removeStoredVideo(config: Pick<Config, 'dataDir'>, storagePath: string): Promise<void> {
  await rm(path.dirname(absoluteStoragePath(config, storagePath)), { recursive: true, force: true });
}

/**
 * Removes temp files left by a process that died mid-upload. Only old ones: another API process
 * sharing DATA_DIR may be receiving right now.
 */
export async function sweepStaleTempFiles(config: Pick<Config, 'dataDir'>, olderThanMs = 24 * 3600_000): Promise<number> {
  const dir = dataPaths(config).uploadsTmp;
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const file = path.join(dir, name);
    const s = await stat(file).catch(() => null);
    if (s && Date.now() - s.mtimeMs > olderThanMs) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}
