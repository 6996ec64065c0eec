// The head check of an upload while the rest of it arrives: an ffmpeg reading `pipe:0` is fed the temp
// file from its start as it is written (read back from the page cache, at ffmpeg's own pace: the
// transfer never waits for it and nothing is queued in memory), so that after the last byte only
// ffprobe and the tail are left (BENCHMARKS.md, Uploads). Only for containers whose head decodes on its
// own: Matroska, WebM, AVI, and MP4/MOV whose `moov` comes before the media data (an MP4 with its
// `moov` at the end — what many cameras write — cannot be decoded before its last byte; it is checked
// afterwards, as before).
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { decodeHead, type HeadCheck } from '../pipeline/probe';
import type { VideoFormat } from './formats';

export interface EarlyHeadCheck {
  /** The temp file now holds this many bytes. */
  grow(bytes: number): void;
  /** The whole file is there (a short file: ffmpeg needs EOF to finish). */
  end(): void;
  abandon(): void;
  /** The head's check, or null when it was abandoned (the caller then decodes the head itself). */
  result: Promise<HeadCheck | null>;
}

/** Whether an MP4/MOV's `moov` box comes before its `mdat` in these first bytes. */
export function moovFirst(head: Buffer): boolean {
  let at = 0;
  while (at + 8 <= head.length) {
    let size = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (type === 'moov') return true;
    if (type === 'mdat') return false;
    if (size === 1 && at + 16 <= head.length) size = Number(head.readBigUInt64BE(at + 8));
    if (size < 8) return false; // 0 (to the end of the file) or malformed
    at += size;
  }
  return false;
}

/** A file being written, read from its start up to what has been written, then to its end. */
class GrowingFileReader extends Readable {
  private file: FileHandle | null = null;
  private position = 0;
  private available = 0;
  private ended = false;
  private waiting = false;

  constructor(private readonly path: string) {
    super({ highWaterMark: 1024 * 1024 });
  }

  grow(bytes: number) {
    this.available = Math.max(this.available, bytes);
    this.wake();
  }

  finish() {
    this.ended = true;
    this.wake();
  }

  private wake() {
    if (!this.waiting) return;
    this.waiting = false;
    this._read(1024 * 1024);
  }

  override _read(size: number) {
    if (this.position >= this.available) {
      if (this.ended) this.push(null);
      else this.waiting = true;
      return;
    }
    const length = Math.min(size, this.available - this.position, 1024 * 1024);
    (async () => {
      this.file ??= await open(this.path, 'r');
      const { bytesRead, buffer } = await this.file.read(Buffer.allocUnsafe(length), 0, length, this.position);
      this.position += bytesRead;
      this.push(buffer.subarray(0, bytesRead));
    })().catch((error) => this.destroy(error));
  }

  override _destroy(error: Error | null, done: (error: Error | null) => void) {
    const file = this.file;
    this.file = null;
    void (file?.close() ?? Promise.resolve()).finally(() => done(error));
  }
}

export function startEarlyHeadCheck(head: Buffer, format: VideoFormat, tempPath: string, ffmpeg: string): EarlyHeadCheck | null {
  const streamable = format === 'mkv' || format === 'webm' || format === 'avi' || ((format === 'mp4' || format === 'mov') && moovFirst(head));
  if (!streamable) return null;
  const input = new GrowingFileReader(tempPath);
  input.on('error', () => {}); // a read failure ends the check; decodeHead reports what ffmpeg saw
  const stop = new AbortController();
  let abandoned = false;
  const result = decodeHead(input, { ffmpeg, signal: stop.signal }).then((check) => (abandoned ? null : check));
  void result.finally(() => input.destroy());
  return {
    grow: (bytes) => input.grow(bytes),
    end: () => input.finish(),
    abandon() {
      if (abandoned) return;
      abandoned = true;
      stop.abort(new Error('early head check abandoned'));
      input.destroy();
    },
    result,
  };
}
