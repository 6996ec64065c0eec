// How an uploaded file arrives: streamed into a temp file under a generated name (hashing and counting
// on the way, the head checked before anything is written) — DATA_DIR/uploads/.tmp with local storage
// (then renamed into place), SCRATCH_DIR/uploads with s3 (then put into the bucket). Once checked, it is
// stored under uploads/<videoId>/source.<ext> (src/storage). Nothing here knows the client's filename.
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { finished, type Readable, Writable } from 'node:stream';
import type { Config } from '../config';
import { dataPaths } from '../config';
import { removeStaleEntries, uploadScratchDir } from '../storage/scratch';
import { HEAD_BYTES } from './formats';

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
  /** Told how many bytes the file holds after each write (the early head check reads up to there). */
  onWritten?(bytes: number): void;
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
    const end = written; // writeAll consumes the array
    await writeAll(file, buffers, at);
    opts.onWritten?.(end);
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

/** Where uploads in progress are written: beside their final place with local storage, else in scratch. */
function uploadTempDir(config: Pick<Config, 'dataDir' | 'storageDriver' | 'scratchDir'>): string {
  return config.storageDriver === 'local' ? dataPaths(config).uploadsTmp : uploadScratchDir(config);
}

/** A fresh temp file name for an upload in progress. */
export async function tempUploadPath(config: Pick<Config, 'dataDir' | 'storageDriver' | 'scratchDir'>, videoId: string): Promise<string> {
  const dir = uploadTempDir(config);
  await mkdir(dir, { recursive: true });
  return path.join(dir, `${videoId}.${randomBytes(4).toString('hex')}.part`);
}

/**
 * Removes temp files left by a process that died mid-upload. Only old ones: another API process
 * sharing DATA_DIR may be receiving right now.
 */
export async function sweepStaleTempFiles(config: Pick<Config, 'dataDir' | 'storageDriver' | 'scratchDir'>, olderThanMs = 24 * 3600_000): Promise<number> {
  return removeStaleEntries(uploadTempDir(config), olderThanMs, (name) => name.endsWith('.part'));
}
