// The one storage interface: where uploads and outputs live. Keys are relative POSIX paths, the same
// for every driver: `uploads/<videoId>/source.<ext>` and `outputs/<jobId>/<file>`.
import type { Readable } from 'node:stream';

export interface StoredObject {
  /** The whole object's size, whatever range was asked for. */
  size: number;
  body: Readable;
}

export interface Storage {
  readonly driver: 'local' | 's3';
  /** Checks at start that the storage answers (s3: the bucket exists and the credentials work). */
  check(): Promise<void>;
  /**
   * Stores a local file under `key`. With `move`, the file is not needed afterwards (local: renamed).
   * `signal` gives the put up (s3: what was sent is removed, also an object that lands after it).
   */
  putFile(key: string, file: string, options?: { contentType?: string; move?: boolean; signal?: AbortSignal }): Promise<void>;
  /**
   * Starts storing a file that is still being written (an upload while it arrives), reading it back as
   * it grows; null when the driver stores a whole file cheaply afterwards (local: a rename).
   */
  followFile(key: string, file: string, options?: { contentType?: string }): FollowedFile | null;
  /** Reads an object, whole or the bytes start..end (inclusive); null when there is none. */
  get(key: string, range?: { start: number; end: number }): Promise<StoredObject | null>;
  /** The object's size, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;
  /**
   * A path a local program (ffmpeg) can read `key` at: the file itself (local), or a copy downloaded
   * into the directory `into` (s3), which `signal` gives up.
   */
  localPath(key: string, into: string, signal?: AbortSignal): Promise<string>;
  /**
   * The local directory that holds the objects under `prefix`, when the driver keeps them on this
   * machine's disk (local); null when objects must be put (s3). Stage files are written there directly.
   */
  localDirectory(prefix: string): string | null;
  /** A URL that downloads the object without the API key, when the driver has one (s3: presigned). */
  presignedUrl(key: string, options: { expiresInSeconds: number; contentType?: string }): Promise<string | null>;
  /**
   * Copies an object to another key (s3: on the server, CopyObject, nothing passes through vidq; up to
   * MAX_COPY_BYTES).
   */
  copy(fromKey: string, toKey: string, options?: { contentType?: string }): Promise<void>;
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix` (which must end with '/'). */
  deletePrefix(prefix: string): Promise<void>;
  /** Every key under `prefix`. */
  list(prefix: string): Promise<string[]>;
  /**
   * From now on, records each multipart upload while it is open in `journal`, so that the parts of a
   * process killed mid-put can be aborted by another (abortAbandonedUploads). The local driver has none.
   */
  recordUploadsIn(journal: UploadJournal): void;
  /** Aborts the open multipart uploads of processes that are gone, as the journal lists them. */
  abortAbandonedUploads(): Promise<AbandonedUploadsSweep>;
  close(): void;
}

/** A multipart upload in a bucket, as the journal knows it. */
export interface OpenUpload {
  bucket: string;
  /** The object's full key (S3_PREFIX included). */
  key: string;
  uploadId: string;
}

/** Where the s3 driver keeps its open multipart uploads (PostgreSQL: upload-journal.ts). */
export interface UploadJournal {
  /** The upload began: recorded under this process's lease before its first part is sent. */
  opened(upload: OpenUpload): Promise<void>;
  /** The upload was completed or aborted: nothing of it is left to remove. */
  closed(uploadId: string): Promise<void>;
  /** This process could not abort it: the next sweep tries again. */
  abandoned(uploadId: string): Promise<void>;
  /** Uploads whose process is gone, or that were abandoned. */
  orphans(): Promise<OpenUpload[]>;
}

/** What one sweep of abandoned multipart uploads did. */
export interface AbandonedUploadsSweep {
  /** Aborted now, or gone already (completed or aborted before). */
  aborted: OpenUpload[];
  /** The bucket refused to abort them (a 4xx, or 501 from a server without the operation): not tried again. */
  refused: Array<OpenUpload & { reason: string }>;
  /** The bucket did not answer: tried again at the next sweep. */
  failed: Array<OpenUpload & { reason: string }>;
}

/** A file being stored while it is written: told how far it has grown, then that it is whole. */
export interface FollowedFile {
  /** The file now holds this many bytes. */
  grow(bytes: number): void;
  /** The file is whole: what is left is sent. */
  end(): void;
  /** Settles when the object is stored, or the put failed (StorageUnavailableError). */
  done(): Promise<void>;
  /** Gives up: stops sending, and removes what was stored (parts, or the object if it landed already). */
  cancel(): Promise<void>;
  /** The put failed (the bucket did not take a part): nothing more will be sent; done() rejects. */
  readonly failed: boolean;
}

/** The largest object copy() takes (S3's CopyObject limit): a larger one is put again from a local file. */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

/** The start stops with this when the storage cannot be used; the message names the variable to fix. */
export class StorageConfigError extends Error {}

/** A storage operation failed for a reason outside the request (network, the server): worth retrying. */
export class StorageUnavailableError extends Error {
  constructor(operation: string, key: string, cause: unknown) {
    super(`storage ${operation} of ${key} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StorageUnavailableError';
  }
}

/** Keys are built by the server from its own ids and file names; anything that could escape is refused. */
export function assertKey(key: string, { topLevel = false } = {}): void {
  const parts = key.replace(/\/$/, '').split('/');
  const valid =
    (parts[0] === 'uploads' || parts[0] === 'outputs' || parts[0] === 'tus') &&
    (parts.length >= 2 || topLevel) &&
    parts.every((part) => part && part !== '.' && part !== '..' && !/[\\\0]/.test(part));
  if (!valid) throw new Error(`not a storage key: ${JSON.stringify(key)}`);
}
