// The `s3` driver: objects in an S3-compatible bucket (AWS S3, MinIO, …), under S3_PREFIX. Files go up
// as multipart uploads read part by part from the file (bounded memory: PART_BYTES × QUEUE_SIZE), come
// down as streams. Open multipart uploads are recorded in a journal, so that those of a process that
// died are aborted by another (abortAbandonedUploads).
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config';
import { abortMultipartUpload } from './s3-abort';
import { whyBucketUnusable } from './s3-bucket-check';
import { isNotFound } from './s3-errors';
import { skipPayloadSigningOverTls } from './s3-payload-signing';
import { S3FollowedFile } from './s3-followed-file';
import {
  type AbandonedUploadsSweep,
  assertKey,
  type FollowedFile,
  type Storage,
  StorageConfigError,
  StorageUnavailableError,
  type StoredObject,
  type UploadJournal,
} from './types';

const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
/** Parts of a followed file in flight: it is read as it arrives, so more would rarely be ready. */
const FOLLOW_QUEUE_SIZE = 2;

export class S3Storage implements Storage {
  readonly driver = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private journal: UploadJournal | null = null;

  constructor(private readonly settings: Config['s3']) {
    this.bucket = settings.bucket;
    this.prefix = settings.prefix;
    this.client = new S3Client({
      region: settings.region,
      endpoint: settings.endpoint,
      forcePathStyle: settings.forcePathStyle,
      credentials: settings.accessKeyId ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey! } : undefined,
      // Checksums only where S3 requires them: S3-compatible servers (older MinIO, s3rver) store a
      // streamed body's aws-chunked framing as if it were the content.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
    skipPayloadSigningOverTls(this.client, settings.endpoint);
  }

  private keyOf(key: string, options?: { topLevel?: boolean }): string {
    assertKey(key, options);
    return this.prefix + key;
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      throw new StorageConfigError(whyBucketUnusable(error, this.settings));
    }
  }

  async putFile(key: string, file: string, options: { contentType?: string; move?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    signal?.throwIfAborted();
    const put = this.follow(key, file, options.contentType, QUEUE_SIZE);
    // Given up: done() rejects at once; the parts are aborted, or the object deleted, once the requests
    // in flight have ended.
    const giveUp = () => void put.cancel().catch(() => {});
    signal?.addEventListener('abort', giveUp, { once: true });
    try {
      put.grow((await stat(file)).size);
      put.end();
      await put.done();
    } finally {
      signal?.removeEventListener('abort', giveUp);
    }
    if (options.move) await rm(file, { force: true });
  }

  followFile(key: string, file: string, options: { contentType?: string } = {}): FollowedFile {
    return this.follow(key, file, options.contentType, FOLLOW_QUEUE_SIZE);
  }

  private follow(key: string, file: string, contentType: string | undefined, queueSize: number): S3FollowedFile {
    const target = { client: this.client, bucket: this.bucket, key: this.keyOf(key), name: key, contentType, journal: this.journal };
    return new S3FollowedFile({ ...target, partBytes: PART_BYTES, queueSize, endQueueSize: QUEUE_SIZE }, file);
  }

  async get(key: string, range?: { start: number; end: number }, signal?: AbortSignal): Promise<StoredObject | null> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        { abortSignal: signal },
      );
      const total = answer.ContentRange ? Number(answer.ContentRange.split('/')[1]) : Number(answer.ContentLength);
      return { size: total, body: answer.Body as Readable };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw new StorageUnavailableError('get', key, error);
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return { size: Number(answer.ContentLength) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw new StorageUnavailableError('stat', key, error);
    }
  }

  async localPath(key: string, into: string, signal?: AbortSignal): Promise<string> {
    const object = await this.get(key, undefined, signal);
    if (!object) throw new StorageUnavailableError('get', key, new Error('no such object'));
    await mkdir(into, { recursive: true });
    const dest = path.join(into, path.posix.basename(key));
    const partial = `${dest}.part`;
    try {
      await pipeline(object.body, createWriteStream(partial), { signal });
      await rename(partial, dest);
    } catch (error) {
      await rm(partial, { force: true });
      throw new StorageUnavailableError('download', key, error);
    }
    return dest;
  }

  localDirectory(): null {
    return null;
  }

  async presignedUrl(key: string, options: { expiresInSeconds: number; contentType?: string }): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), ResponseContentType: options.contentType });
    return getSignedUrl(this.client, command, { expiresIn: options.expiresInSeconds });
  }

  async copy(fromKey: string, toKey: string, options: { contentType?: string } = {}): Promise<void> {
    // CopySource is "bucket/key", URL-encoded (keys are vidq's own ids and names: '/' stays).
    const source = `${this.bucket}/${this.keyOf(fromKey).split('/').map(encodeURIComponent).join('/')}`;
    const type = options.contentType ? { ContentType: options.contentType, MetadataDirective: 'REPLACE' as const } : {};
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: this.keyOf(toKey), CopySource: source, ...type }));
    } catch (error) {
      throw new StorageUnavailableError('copy', fromKey, error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
    } catch (error) {
      if (!isNotFound(error)) throw new StorageUnavailableError('delete', key, error);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (!prefix.endsWith('/')) throw new Error(`a prefix ends with '/': ${prefix}`);
    for (;;) {
      const keys = await this.list(prefix);
      if (!keys.length) return;
      let answer;
      try {
        answer = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(0, 1000).map((key) => ({ Key: this.keyOf(key) })), Quiet: true } }),
        );
      } catch (error) {
        throw new StorageUnavailableError('delete', prefix, error);
      }
      const failed = answer.Errors?.[0];
      if (failed) throw new StorageUnavailableError('delete', failed.Key ?? prefix, new Error(failed.Message ?? failed.Code ?? 'refused'));
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const listed = this.keyOf(prefix, { topLevel: true });
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: listed, ContinuationToken: token }));
      } catch (error) {
        throw new StorageUnavailableError('list', prefix, error);
      }
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  recordUploadsIn(journal: UploadJournal): void {
    this.journal = journal;
  }

  async abortAbandonedUploads(): Promise<AbandonedUploadsSweep> {
    const sweep: AbandonedUploadsSweep = { aborted: [], refused: [], failed: [] };
    for (const upload of (await this.journal?.orphans()) ?? []) {
      const answer = await abortMultipartUpload(this.client, upload);
      if (answer.outcome === 'failed') {
        sweep.failed.push({ ...upload, reason: answer.reason }); // kept for the next sweep
        continue;
      }
      if (answer.outcome === 'gone') sweep.aborted.push(upload);
      else sweep.refused.push({ ...upload, reason: answer.reason });
      await this.journal!.closed(upload.uploadId);
    }
    return sweep;
  }

  close(): void {
    this.client.destroy();
  }
}
