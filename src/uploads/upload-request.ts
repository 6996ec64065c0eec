// The multipart front door, run by the HTTP server before Yoga: the API key is checked before a byte
// of the body is read, then the body is parsed (multipart-parser.ts) and the operations go to Yoga,
// with each file still arriving.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Upload } from 'graphql-upload-ts';
import { authenticate, AuthenticationError } from '../auth/authenticate';
import { type Limits, SLOT_RETRY_AFTER_SECONDS, sendRateLimited } from '../limits/index';
import { ERROR_CATALOG } from '../errors/catalog';
import type { Services } from '../services';
import { MultipartRequestError, type ParseOptions, parseUploadRequest } from './multipart-parser';
import { sweepStaleTempFiles } from './receive';

/** More files than this is refused before GraphQL runs; 2…MAX_FILES is a typed InvalidInputError. */
const MAX_FILES = 10;
/** The `operations` and `map` fields: JSON of a few hundred bytes in practice. */
export const MAX_FIELD_BYTES = 256 * 1024;

/** What the resolver needs to know about the request its file came in. */
export interface UploadRequestInfo {
  /** Distinct files the request maps into its operations. */
  files: number;
  /** Content-Length of the whole request, when the client sent one. */
  contentLength: number | null;
  /** Bytes of the request that are not file content, roughly (JSON fields and part headers). */
  overheadEstimate: number;
  /** process.hrtime.bigint() when the request started. */
  startedAt: bigint;
}

const infoByUpload = new WeakMap<Promise<unknown>, UploadRequestInfo>();

/** The request facts for an Upload argument (undefined for anything not parsed by this module). */
export function uploadRequestInfo(file: Promise<unknown>): UploadRequestInfo | undefined {
  return infoByUpload.get(file);
}

function collectUploads(value: unknown, found: Set<Upload>, depth = 0): Set<Upload> {
  if (value instanceof Upload) found.add(value);
  else if (value && typeof value === 'object' && depth < 32) {
    for (const v of Object.values(value)) collectUploads(v, found, depth + 1);
  }
  return found;
}

function jsonLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value, (_k, v) => (v instanceof Upload ? null : v)) ?? '');
}

/**
 * Hands Yoga the request as already parsed, the way body-parsing middleware does (`req.body`, which
 * @whatwg-node/server takes instead of the stream), so that Yoga never touches the multipart body.
 * Otherwise Yoga's body-size guard (25 MB by default, meant for the JSON bodies Yoga buffers itself)
 * would refuse any larger upload by its Content-Length, and would count the stream alongside busboy
 * and cut the connection at 25 MB. The limits that apply to an upload are MAX_FILE_SIZE_MB and the
 * field sizes, enforced here.
 */
function keepBodyFromYoga(req: IncomingMessage, parsed: object) {
  (req as IncomingMessage & { body?: unknown }).body = parsed;
  delete req.headers['content-length'];
}

function answer(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The `parseMultipart` hook of the HTTP server: resolves to the operations for Yoga, or answers the
 * request itself (malformed multipart, client gone) and resolves to undefined.
 */
export function createMultipartParser(
  services: Services,
  limits?: Limits,
  form?: ParseOptions['form'],
): (req: IncomingMessage, res: ServerResponse) => Promise<unknown> {
  const { config, database } = services;
  sweepStaleTempFiles(config)
    .then((removed) => removed && services.log.info({ removed }, 'removed temp files of uploads interrupted by a crash'))
    .catch((err) => services.log.warn({ err }, 'could not sweep stale upload temp files'));
  return async (req: IncomingMessage, res: ServerResponse) => {
    const startedAt = process.hrtime.bigint();
    let keyId: string;
    try {
      keyId = (await authenticate(database.db, req.headers.authorization)).keyId;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      // Let Yoga answer: its context factory runs the same check (a key never turns valid again) and
      // formats the 401 exactly as for any other request. The body stays unread; Node discards it.
      const stub = { query: 'query UploadRefused { __typename }' };
      keepBodyFromYoga(req, stub);
      return stub;
    }
    // At most UPLOAD_MAX_CONCURRENT_PER_KEY uploads per key in progress, across API processes; the slot
    // is held until the response closes (answered, or the client gone).
    if (limits && !(await limits.holdForResponse(res, 'upload', keyId))) {
      const max = limits.slots.cap('upload');
      sendRateLimited(res, `Too many uploads in progress for this API key: at most ${max} at once. Wait for one to finish.`, SLOT_RETRY_AFTER_SECONDS, {
        closeConnection: true,
      });
      return undefined;
    }
    let operations: unknown;
    try {
      operations = await parseUploadRequest(req, res, {
        maxFileBytes: config.maxFileSizeBytes,
        maxFieldBytes: MAX_FIELD_BYTES,
        maxFiles: MAX_FILES,
        idleTimeoutMs: config.uploadIdleTimeoutSeconds * 1000,
        form,
      });
    } catch (error) {
      if (!(error instanceof MultipartRequestError)) {
        // The client is gone: nothing to send, but mark the response done (499 in the access log).
        if (!res.headersSent) res.statusCode = 499;
        res.end();
        return undefined;
      }
      const message = `Malformed multipart request: ${error.message}`;
      // The REST form answers in its envelope (src/rest), GraphQL in its own shape.
      answer(
        res,
        error.status,
        form
          ? { success: false, message: ERROR_CATALOG.INVALID_INPUT.message, error: { detail: message, code: 'INVALID_INPUT' } }
          : { errors: [{ message, extensions: { code: 'INVALID_INPUT' } }] },
      );
      return undefined;
    }
    const uploads = collectUploads(operations, new Set());
    const length = Number(req.headers['content-length']);
    keepBodyFromYoga(req, operations as object);
    const info: UploadRequestInfo = {
      files: uploads.size,
      contentLength: Number.isSafeInteger(length) && length >= 0 ? length : null,
      // Both JSON fields, plus a part header and boundary per part.
      overheadEstimate: jsonLength(operations) + 32 + 200 * (2 + uploads.size),
      startedAt,
    };
    for (const upload of uploads) infoByUpload.set(upload.promise, info);
    return operations;
  };
}
