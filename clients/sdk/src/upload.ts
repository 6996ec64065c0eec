// Resumable uploads over tus 1.0.0 (vidq's /uploads) with tus-js-client, then createVideoFromUpload.
// A dropped connection is resumed from the server's offset (tus-js-client retries with backoff); with
// `resumeFile` (Node) an upload interrupted by a crash or a restart resumes in the next process.
import * as tus from 'tus-js-client';
import { type DetailedError, Upload, type UrlStorage } from 'tus-js-client';
import { ERROR_MESSAGES, parseRetryAfter, unreachableError, unwrap, VidqError } from './errors.js';
import type { ErrorCode, VideoFieldsFragment } from './generated/graphql.js';
import { authHeaders, type Connection, hasApiKey, request } from './http.js';
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
  400: 'INVALID_INPUT',
  401: 'INVALID_API_KEY', // UNAUTHENTICATED when no key was sent: see tusError
  404: 'UPLOAD_NOT_FOUND',
  413: 'FILE_TOO_LARGE',
  415: 'UNSUPPORTED_FORMAT',
  429: 'RATE_LIMITED',
};

/**
 * A tus refusal as a VidqError shaped like a GraphQL error member: `message` is the catalogue's generic
 * message for the code, `detail` the server's own text (the response body), and tus-js-client's error
 * (with its request dump) is only the `cause`.
 */
function tusError(conn: Connection, error: Error | DetailedError): VidqError {
  const response = (error as DetailedError).originalResponse;
  const status = response?.getStatus() ?? 0;
  const request = (error as DetailedError).originalRequest;
  // A request that got no HTTP answer at all (refused, unknown host, timeout): name the URL and the cause.
  if (!status && request) return unreachableError(conn.baseUrl, request.getURL(), error);
  if (!status) {
    // Failed before any request (reading the file, the URL storage): not the server's refusal.
    return new VidqError({ code: 'SERVICE_UNAVAILABLE', message: `The upload failed before reaching vidq: ${error.message}`, retryable: true, cause: error });
  }
  const body = response?.getBody()?.trim() ?? '';
  let code = TUS_STATUS_CODES[status] ?? 'SERVICE_UNAVAILABLE';
  // vidq answers 401 for both: no key sent (or one it reads as none) is UNAUTHENTICATED, as on GraphQL.
  if (status === 401 && (!hasApiKey(conn) || body.startsWith(ERROR_MESSAGES.UNAUTHENTICATED.message))) code = 'UNAUTHENTICATED';
  const retryAfterSeconds = code === 'RATE_LIMITED' ? parseRetryAfter(response?.getHeader('retry-after')) : undefined;
  // The 413 at creation names the limit: "… up to 1000 MB (1048576000 bytes)."
  const maxBytes = code === 'FILE_TOO_LARGE' ? Number(/\((\d+) bytes\)/.exec(body)?.[1] ?? NaN) : NaN;
  // The body is written for people reading it alone ("<message> <what to do>"): the detail is its rest.
  const message = ERROR_MESSAGES[code].message;
  const rest = body.startsWith(message) ? body.slice(message.length).trim() : body;
  return new VidqError({
    code,
    message,
    detail: rest || body || `vidq answered the upload with HTTP ${status}.`,
    retryable: ERROR_MESSAGES[code].retryable,
    cause: error,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    ...(Number.isFinite(maxBytes) ? { maxBytes } : {}),
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
        throw new VidqError({
          code: 'INVALID_INPUT',
          message: `Cannot read the file to upload: ${error.message}`,
          detail: 'Check the path, and that this process may read the file.',
        });
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
      headers: authHeaders(conn),
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
