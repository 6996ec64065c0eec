// A file being written, read from its start as it grows: the head check follows an upload while it
// arrives (early-head.ts), reading the temp file back from the page cache at its own pace, so the
// transfer never waits for it and nothing is queued in memory.
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Reads a file from its start up to what has been written (grow), then, once told it is whole (finish), to its end. */
export class GrowingFileReader extends Readable {
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
