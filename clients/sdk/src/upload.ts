// Resumable uploads over tus 1.0.0 (vidq's /uploads) with tus-js-client, then createVideoFromUpload.
// A dropped connection is resumed from the server's offset (tus-js-client retries with backoff); with
// `resumeFile` (Node) an upload interrupted by a crash or a restart resumes in the next process.
import * as tus from 'tus-js-client';
import { type DetailedError, Upload, type UrlStorage } from 'tus-js-client';
import { unreachableError, unwrap, VidqError } from './errors.js';
import type { ErrorCode, VideoFieldsFragment } from './generated/graphql.js';
import { type Connection, request } from './http.js';
import { CreateVideoFromUploadDocument } from './operations.js';

/** A file path (Node), a Blob or File (browsers; Node's `fs.openAsBlob`), or bytes. */
export type UploadSource = string | Blob | Uint8Array;

export interface UploadOptions {
  /** Required for Blobs and bytes unless they are a File; vidq judges the format by its extension and by the bytes. */
  filename?: string;
  title?: string;
  recordedAt?: string | Date;
  /** A repeat with the same key returns the first video. */
  idempotencyKey?: string;
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  /** Bytes per PATCH request; smaller chunks lose less on a dropped connection. Default 16 MiB. */
  chunkSizeBytes?: number;
  /** Waits between retries of a failed request, in ms. Default [0, 1000, 3000, 5000, 10000]. */
  retryDelays?: number[];
  /** Node: a JSON file remembering unfinished uploads, so a later process resumes instead of starting over. */
  resumeFile?: string;
  /** Any tus-js-client URL storage (browsers default to localStorage). */
  urlStorage?: UrlStorage;
  signal?: AbortSignal;
}

const TUS_STATUS_CODES: Record<number, ErrorCode> = {
  401: 'INVALID_API_KEY',
  404: 'UPLOAD_NOT_FOUND',
  413: 'FILE_TOO_LARGE',
  415: 'UNSUPPORTED_FORMAT',
  429: 'RATE_LIMITED',
};

function tusError(conn: Connection, error: Error | DetailedError): VidqError {
  const response = (error as DetailedError).originalResponse;
  const status = response?.getStatus() ?? 0;
  const request = (error as DetailedError).originalRequest;
  // A request that got no HTTP answer at all (refused, unknown host, timeout): name the URL and the cause.
  if (!status && request) return unreachableError(conn.baseUrl, request.getURL(), error);
  const body = response?.getBody()?.trim();
  const code = TUS_STATUS_CODES[status] ?? (status === 400 ? 'INVALID_INPUT' : 'SERVICE_UNAVAILABLE');
  return new VidqError({
    code,
    message: body || (status ? `Upload refused with HTTP ${status}` : `The upload failed before reaching vidq: ${error.message}`),
    detail: error.message,
    retryable: code === 'SERVICE_UNAVAILABLE' || code === 'RATE_LIMITED',
  });
}

/** tus-js-client's Node URL storage (a JSON file); its type declarations omit it. */
function fileUrlStorage(file: string): UrlStorage {
  const { FileUrlStorage } = tus as unknown as { FileUrlStorage?: new (file: string) => UrlStorage };
  if (!FileUrlStorage) throw new TypeError('resumeFile works in Node only; browsers resume through localStorage.');
  return new FileUrlStorage(file);
}

async function openSource(source: UploadSource, filename: string | undefined) {
  if (typeof source === 'string') {
    const [{ createReadStream }, { stat }, { basename }] = await Promise.all([import('node:fs'), import('node:fs/promises'), import('node:path')]);
    // stat first: a ReadStream of a missing file would emit an unhandled 'error' and end the process.
    const size = await stat(source).then(
      (s) => s.size,
      (error: Error) => {
        throw new VidqError({ code: 'INVALID_INPUT', message: `Cannot read the file to upload: ${error.message}` });
      },
    );
    // A file ReadStream lets tus-js-client reopen the file at any offset (resume) and fingerprint it.
    return { input: createReadStream(source), size, name: filename ?? basename(source) };
  }
  if (source instanceof Uint8Array) {
    const input = typeof window === 'undefined' ? Buffer.from(source.buffer, source.byteOffset, source.byteLength) : new Blob([source as BlobPart]);
    return { input, size: source.byteLength, name: filename };
  }
  const name = filename ?? (typeof File !== 'undefined' && source instanceof File ? source.name : undefined);
  if (typeof window === 'undefined') {
    // Node: tus-js-client reads Buffers and streams, not Blobs.
    return { input: Buffer.from(await source.arrayBuffer()), size: source.size, name };
  }
  return { input: source, size: source.size, name };
}

/** Sends the bytes; resolves with the tus upload's id (the last segment of its URL). */
async function sendBytes(conn: Connection, source: UploadSource, opts: UploadOptions): Promise<string> {
  const { input, size, name } = await openSource(source, opts.filename);
  if (!name) throw new VidqError({ code: 'INVALID_INPUT', message: 'Give the upload a filename (with its extension): options.filename.' });
  const urlStorage = opts.urlStorage ?? (opts.resumeFile ? fileUrlStorage(opts.resumeFile) : undefined);
  return new Promise<string>((resolve, reject) => {
    const upload = new Upload(input as never, {
      endpoint: new URL('/uploads', conn.baseUrl).href,
      headers: { authorization: `Bearer ${conn.apiKey}` },
      metadata: { filename: name },
      uploadSize: size,
      chunkSize: opts.chunkSizeBytes ?? 16 * 1024 * 1024,
      retryDelays: opts.retryDelays ?? [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      storeFingerprintForResuming: Boolean(urlStorage) || typeof window !== 'undefined',
      ...(urlStorage ? { urlStorage } : {}),
      onProgress: (sent, total) => opts.onProgress?.(sent, total),
      onError: (error) => reject(tusError(conn, error)),
      onSuccess: () => resolve(new URL(upload.url!).pathname.split('/').pop()!),
    });
    opts.signal?.addEventListener('abort', () => {
      void upload.abort(false);
      reject(opts.signal?.reason);
    });
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch((error: Error) => reject(tusError(conn, error)));
  });
}

export async function uploadVideo(conn: Connection, source: UploadSource, opts: UploadOptions = {}): Promise<VideoFieldsFragment> {
  const uploadId = await sendBytes(conn, source, opts);
  const recordedAt = opts.recordedAt instanceof Date ? opts.recordedAt.toISOString() : opts.recordedAt;
  const data = await request(conn, CreateVideoFromUploadDocument, {
    input: { uploadId, title: opts.title, recordedAt, idempotencyKey: opts.idempotencyKey },
  });
  return unwrap(data.createVideoFromUpload, 'UploadVideoSuccess').video;
}
