// A multipart upload of a file that is still being written (an upload while it arrives), or of a whole
// file (a stage's output): each 8 MB part is read from its byte range of the file once the file has
// grown past it, then sent; a file of one part goes up in one PutObject. A part is one buffer read from
// the page cache — lib-storage's Upload, used at first, concatenates a stream's chunks into every part
// instead, which on a 1 GB upload cost seconds of CPU and garbage collection and more than 100 MB of
// RSS (BENCHMARKS.md, Uploads). Each multipart upload is recorded in the journal while it is open.
import { open, type FileHandle } from 'node:fs/promises';
import {
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { abortMultipartUpload } from './s3-abort';
import { type FollowedFile, StorageUnavailableError, type UploadJournal } from './types';

export interface FollowTarget {
  client: S3Client;
  /** The storage key, for messages. */
  name: string;
  bucket: string;
  /** The object's full key (S3_PREFIX included). */
  key: string;
  contentType?: string;
  partBytes: number;
  /** Parts in flight at once (each holds one part's buffer). */
  queueSize: number;
  /**
   * Parts in flight once the file is whole: what is left then is sent like a whole file (a follower
   * that fell behind, or began late, catches up faster). Defaults to queueSize.
   */
  endQueueSize?: number;
  /** Where an open multipart upload is recorded, so that another process can abort it if this one dies. */
  journal: UploadJournal | null;
}

export class S3FollowedFile implements FollowedFile {
  private available = 0;
  private ended = false;
  private nextStart = 0;
  private nextPart = 1;
  private inFlight = 0;
  private readonly parts: CompletedPart[] = [];
  private uploadId: Promise<string> | null = null;
  private file: Promise<FileHandle> | null = null;
  private failure: unknown = null;
  private cancelled = false;
  private stored = false; // the object exists (single put or completed multipart)
  private readonly finished: Promise<void>;
  private settle!: { resolve(): void; reject(error: unknown): void };
  private readonly waiting: Array<() => void> = [];
  private readonly spare: Buffer[] = [];

  constructor(
    private readonly target: FollowTarget,
    private readonly path: string,
  ) {
    this.finished = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.finished.catch(() => {}); // read by done(); a cancelled upload may never be asked
  }

  grow(bytes: number): void {
    this.available = Math.max(this.available, bytes);
    this.pump();
  }

  end(): void {
    this.ended = true;
    this.pump();
  }

  done(): Promise<void> {
    return this.finished;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.settle.reject(new Error('the upload was cancelled'));
    await this.drained();
    try {
      if (this.stored) await this.target.client.send(new DeleteObjectCommand({ Bucket: this.target.bucket, Key: this.target.key }));
      else await this.abort();
    } finally {
      await this.closeFile();
    }
  }

  /** Resolves once no request of this upload is in flight. */
  private async drained(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.waiting.splice(0)) resolve();
  }

  /**
   * Aborts the multipart upload, if one began. One the bucket did not abort (unreachable, or a server
   * that cannot: s3rver answers 405) is left to the journal's sweep; its parts are never an object.
   */
  private async abort(): Promise<void> {
    const uploadId = await this.uploadId?.catch(() => null);
    if (!uploadId) return;
    const { client, bucket, key, journal } = this.target;
    const { outcome } = await abortMultipartUpload(client, { bucket, key, uploadId });
    // A journal write that fails leaves the row under this process's lease: the sweep aborts it once
    // this process is gone (answered NoSuchUpload if nothing is left).
    await (outcome === 'gone' ? journal?.closed(uploadId) : journal?.abandoned(uploadId))?.catch(() => {});
  }

  /** Begins the multipart upload, recorded in the journal before any part is sent. */
  private async createUpload(): Promise<string> {
    const { client, bucket, key, contentType, journal } = this.target;
    const answer = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
    const uploadId = answer.UploadId!;
    try {
      await journal?.opened({ bucket, key, uploadId });
    } catch (error) {
      await abortMultipartUpload(client, { bucket, key, uploadId }); // still empty: nothing to lose if it fails
      throw error;
    }
    return uploadId;
  }

  /** Sends what can be sent now: whole parts as the file grows, the rest once it has ended. */
  private pump(): void {
    if (this.cancelled || this.failure) return;
    const { partBytes, queueSize, endQueueSize } = this.target;
    const limit = this.ended ? Math.max(queueSize, endQueueSize ?? queueSize) : queueSize;
    while (this.inFlight < limit) {
      const remaining = this.available - this.nextStart;
      if (remaining >= partBytes) this.send(partBytes);
      else if (this.ended && (remaining > 0 || this.nextPart === 1)) this.send(remaining);
      else break;
    }
    if (this.ended && this.inFlight === 0 && this.nextStart === this.available) void this.complete();
  }

  private send(length: number): void {
    const start = this.nextStart;
    const single = this.ended && this.nextPart === 1 && start + length === this.available; // the whole file in one request
    const partNumber = this.nextPart++;
    this.nextStart += length;
    this.inFlight++;
    (single ? this.putWhole(length) : this.putPart(partNumber, start, length))
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.settled();
        this.pump();
      });
  }

  /**
   * Reads the bytes start..start+length of the file into a part buffer and hands it to `send`. Buffers
   * come back once their request has settled and are reused: a fresh 8 MB buffer per part kept the
   * garbage collector busy (775 ms per 300 MB).
   */
  private async withPart(start: number, length: number, send: (body: Buffer) => Promise<void>): Promise<void> {
    const whole = this.spare.pop() ?? Buffer.allocUnsafe(this.target.partBytes);
    try {
      const body = whole.subarray(0, length);
      this.file ??= open(this.path, 'r');
      let at = 0;
      while (at < length) {
        const { bytesRead } = await (await this.file).read(body, at, length - at, start + at);
        if (bytesRead === 0) throw new Error(`${this.path} ended at ${start + at} bytes, before the ${start + length} it was said to hold`);
        at += bytesRead;
      }
      if (!this.cancelled) await send(body);
    } finally {
      this.spare.push(whole);
    }
  }

  private async putWhole(length: number): Promise<void> {
    const { client, bucket, key, contentType } = this.target;
    await this.withPart(0, length, async (body) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: length, ContentType: contentType }));
      this.stored = true;
    });
  }

  private async putPart(partNumber: number, start: number, length: number): Promise<void> {
    const { client, bucket, key } = this.target;
    this.uploadId ??= this.createUpload();
    const uploadId = await this.uploadId;
    await this.withPart(start, length, async (body) => {
      const answer = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length }),
      );
      this.parts.push({ ETag: answer.ETag, PartNumber: partNumber });
    });
  }

  private async complete(): Promise<void> {
    if (this.stored || this.cancelled || this.failure) {
      if (this.stored) await this.closeFile().then(() => this.settle.resolve());
      return;
    }
    const { client, bucket, key } = this.target;
    this.inFlight++; // completing: no second completion, and cancel waits for it
    try {
      const uploadId = await this.uploadId!;
      this.parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
      await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: this.parts } }));
      this.stored = true;
      await this.target.journal?.closed(uploadId).catch(() => {}); // a row left: the sweep's abort finds NoSuchUpload
      await this.closeFile();
      this.settle.resolve();
    } catch (error) {
      this.fail(error);
    } finally {
      this.settled();
    }
  }

  private fail(error: unknown): void {
    if (this.failure || this.cancelled) return;
    this.failure = error;
    this.settle.reject(new StorageUnavailableError('put', this.target.name, error));
    // No parts are left behind where the server can abort them.
    void this.drained()
      .then(() => this.abort())
      .finally(() => this.closeFile());
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    this.file = null;
    await (await file?.catch(() => null))?.close();
  }
}
