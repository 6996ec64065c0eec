// GraphQL multipart request parsing (https://github.com/jaydenseric/graphql-multipart-request-spec)
// with busboy, the parser graphql-upload-ts is built on. Resolves with the operations as soon as
// `operations` and `map` are in, with graphql-upload-ts's Upload (so its Upload scalar accepts it) in
// place of each file; a file is then read once, straight from busboy as it arrives, with
// backpressure: it is never buffered anywhere but where its reader writes it.
//
// This is graphql-upload-ts's processRequest without its fs-capacitor buffer: processRequest copies
// every file into os.tmpdir() first, which measured at about twice the server CPU per byte of a plain
// pipe to disk and 0.3–0.7 of its throughput on a 2-core machine (bench/uploads.ts). The rules and
// messages for `operations` and `map` are processRequest's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { type FileUpload, Upload } from 'graphql-upload-ts';
import { IO_CHUNK_BYTES } from './receive';

const SPEC = 'https://github.com/jaydenseric/graphql-multipart-request-spec';

/** A file of a multipart request, readable once, as it arrives. */
export interface StreamedFile {
  fieldName: string;
  filename: string;
  mimetype: string;
  encoding: string;
  /**
   * The file's bytes, once; throws UploadStreamError when they can no longer be read. Do not destroy
   * it: unpipe and resume it to give up (the parser must keep reading the request).
   */
  createReadStream(): Readable;
  /** Why the request's parsing failed (the client went away…), once it has. */
  failure(): UploadStreamError | undefined;
}

export type UploadStreamFailure = 'interrupted' | 'missing' | 'discarded';

/** Why a file cannot be read (thrown by createReadStream, or the error its stream ends with). */
export class UploadStreamError extends Error {
  constructor(
    readonly reason: UploadStreamFailure,
    message: string,
  ) {
    super(message);
    this.name = 'UploadStreamError';
  }
}

/** A request-level failure: answered by the HTTP layer, GraphQL never runs. */
export class MultipartRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The Upload scalar's value as this module made it. */
export function streamedFile(file: Promise<FileUpload>): Promise<StreamedFile> {
  return file as unknown as Promise<StreamedFile>;
}

/** Sets value at a dotted path ("variables.input.file") whose current value must be null. */
function setAtPath(root: unknown, path: string, value: unknown): boolean {
  const keys = path.split('.');
  let node = root as Record<string, unknown> | null;
  for (const key of keys.slice(0, -1)) {
    if (!node || typeof node !== 'object' || key === '__proto__' || !Object.hasOwn(node, key)) return false;
    node = node[key] as Record<string, unknown> | null;
  }
  const last = keys.at(-1)!;
  if (!node || typeof node !== 'object' || !Object.hasOwn(node, last) || node[last] !== null) return false;
  node[last] = value;
  return true;
}

export interface ParseOptions {
  maxFileBytes: number;
  maxFieldBytes: number;
  maxFiles: number;
  /** A body from which no byte arrives for this long is given up as interrupted (UPLOAD_IDLE_TIMEOUT_SECONDS). */
  idleTimeoutMs: number;
  /**
   * A plain form instead of the GraphQL multipart spec (the REST upload: a file part and text fields):
   * the operations are built when the file part starts, from the text fields received before it. Text
   * fields after it are added to the same `fields` object as they arrive (the file is never held back
   * to wait for them): the caller reads them once the upload is done.
   */
  form?: {
    fileField: string;
    textFields: readonly string[];
    operations(fields: Record<string, string>, upload: Upload): Record<string, unknown>;
  };
}

/**
 * Parses the operations and map, then resolves with the operations (Uploads in place of files) while
 * the files are still arriving. Rejects with MultipartRequestError for a malformed request, or
 * UploadStreamError('interrupted') when the client goes away first.
 */
export function parseUploadRequest(req: IncomingMessage, res: ServerResponse, opts: ParseOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        highWaterMark: IO_CHUNK_BYTES,
        fileHwm: IO_CHUNK_BYTES,
        // Past the limit busboy ends the file's stream: at maxFileBytes + 1 bytes, so that a file of
        // exactly the limit still passes and the reader, counting, sees one byte too many (after the
        // first bytes, so that a too large PNG is still called a PNG).
        limits: {
          fieldSize: opts.maxFieldBytes,
          fields: opts.form ? opts.form.textFields.length + 8 : 2,
          fileSize: opts.maxFileBytes + 1,
          files: opts.maxFiles,
        },
      });
    } catch (error) {
      reject(new MultipartRequestError(400, (error as Error).message));
      return;
    }
    let operations: Record<string, unknown> | undefined;
    let map: Map<string, Upload> | undefined;
    let settled = false;
    let failure: UploadStreamError | undefined;
    /** Drops a file nobody is reading any more, so that busboy (and the request) keep flowing. */
    const discards: (() => void)[] = [];
    const streamFailures: ((error: UploadStreamError) => void)[] = [];

    const fail = (error: Error) => {
      if (failure) return;
      failure = error instanceof UploadStreamError ? error : new UploadStreamError('interrupted', error.message);
      if (!settled) {
        settled = true;
        reject(error);
      }
      for (const upload of map?.values() ?? []) if (!upload.file) upload.reject(failure);
      for (const notify of streamFailures) notify(failure);
      req.unpipe(parser);
      parser.destroy();
      // Discard the rest of the body (later in the loop: a large body pauses while the parser goes).
      setImmediate(() => req.resume());
    };

    const formFields: Record<string, string> = {};
    parser.on('field', (name, value, { valueTruncated }) => {
      if (valueTruncated) {
        return fail(new MultipartRequestError(413, `The ‘${name}’ multipart field value exceeds the ${opts.maxFieldBytes} byte size limit.`));
      }
      if (opts.form) {
        if (opts.form.textFields.includes(name)) formFields[name] = value; // others: ignored, like unknown JSON keys
        return;
      }
      if (name === 'operations') {
        try {
          operations = JSON.parse(value);
        } catch {
          return fail(new MultipartRequestError(400, `Invalid JSON in the ‘operations’ multipart field (${SPEC}).`));
        }
        if (typeof operations !== 'object' || !operations) {
          return fail(new MultipartRequestError(400, `Invalid type for the ‘operations’ multipart field (${SPEC}).`));
        }
      } else if (name === 'map') {
        if (!operations) return fail(new MultipartRequestError(400, `Disordered multipart fields; ‘map’ should follow ‘operations’ (${SPEC}).`));
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          return fail(new MultipartRequestError(400, `Invalid JSON in the ‘map’ multipart field (${SPEC}).`));
        }
        if (typeof parsed !== 'object' || !parsed || Array.isArray(parsed)) {
          return fail(new MultipartRequestError(400, `Invalid type for the ‘map’ multipart field (${SPEC}).`));
        }
        const entries = Object.entries(parsed);
        if (entries.length > opts.maxFiles) return fail(new MultipartRequestError(413, `${opts.maxFiles} max file uploads exceeded.`));
        map = new Map();
        for (const [fieldName, paths] of entries) {
          if (!Array.isArray(paths)) {
            return fail(new MultipartRequestError(400, `Invalid type for the ‘map’ multipart field entry key ‘${fieldName}’ array (${SPEC}).`));
          }
          const upload = new Upload();
          map.set(fieldName, upload);
          for (const [index, path] of paths.entries()) {
            if (typeof path !== 'string' || !setAtPath(operations, path, upload)) {
              return fail(
                new MultipartRequestError(
                  400,
                  `Invalid object path for the ‘map’ multipart field entry key ‘${fieldName}’ array index ‘${index}’ value ‘${String(path)}’ (${SPEC}).`,
                ),
              );
            }
          }
        }
        settled = true;
        resolve(operations);
      }
    });

    parser.on('file', (fieldName, source, info) => {
      // The first listener: a failure is recorded (as an UploadStreamError) before the reader hears of it.
      source.on('error', (error) => fail(error));
      if (opts.form && !map && fieldName === opts.form.fileField) {
        const upload = new Upload();
        map = new Map([[fieldName, upload]]);
        operations = opts.form.operations(formFields, upload);
        settled = true;
        resolve(operations);
      }
      if (!map) {
        source.resume();
        if (opts.form) return fail(new MultipartRequestError(400, `The file must be sent in the part ‘${opts.form.fileField}’, not ‘${fieldName}’.`));
        return fail(new MultipartRequestError(400, `Disordered multipart fields; files should follow ‘map’ (${SPEC}).`));
      }
      const upload = map.get(fieldName);
      if (!upload || upload.file) {
        source.resume(); // a part the map does not name: ignored, as the spec allows
        return;
      }
      let state: 'waiting' | 'reading' | 'discarded' = 'waiting';
      const discard = () => {
        if (state === 'waiting') {
          state = 'discarded';
          source.resume();
        }
      };
      // One file per request: when the map names several, none is read; the resolver refuses.
      if (map.size > 1) discard();
      discards.push(discard);
      streamFailures.push((error) => source.destroy(error));
      const file: StreamedFile = {
        fieldName,
        filename: info.filename ?? '',
        mimetype: info.mimeType,
        encoding: info.encoding,
        failure: () => failure,
        createReadStream() {
          if (failure) throw failure;
          if (state !== 'waiting') throw new UploadStreamError('discarded', 'the file was already read or discarded');
          state = 'reading';
          // busboy's own stream, with no stage in between (each one costs CPU per chunk). A reader that
          // gives up must not destroy it, or busboy stalls: it unpipes and resumes it instead.
          return source;
        },
      };
      upload.resolve(file as unknown as FileUpload);
    });

    parser.on('filesLimit', () => fail(new MultipartRequestError(413, `${opts.maxFiles} max file uploads exceeded.`)));
    parser.on('error', (error: Error) => fail(settled ? error : new MultipartRequestError(400, error.message)));
    parser.on('finish', () => {
      if (opts.form && !map) return fail(new MultipartRequestError(400, `Missing the file part ‘${opts.form.fileField}’ of the multipart form.`));
      if (!operations) return fail(new MultipartRequestError(400, `Missing multipart field ‘operations’ (${SPEC}).`));
      if (!map) return fail(new MultipartRequestError(400, `Missing multipart field ‘map’ (${SPEC}).`));
      for (const upload of map.values()) {
        if (!upload.file) upload.reject(new UploadStreamError('missing', 'File missing in the request.'));
      }
    });

    req.once('close', () => {
      if (!req.complete) fail(new UploadStreamError('interrupted', 'the client disconnected during the upload'));
    });
    // A client that stops sending (headers and half a body, then silence) would hold the connection, a
    // file descriptor and a temp file until the 6-hour request timeout: no byte for idleTimeoutMs ends it.
    const socket = req.socket;
    const onIdle = () => {
      fail(new UploadStreamError('interrupted', `no data arrived for ${Math.round(opts.idleTimeoutMs / 1000)} s`));
      socket.destroy();
    };
    socket.setTimeout(opts.idleTimeoutMs);
    socket.once('timeout', onIdle);
    const stopIdleTimer = () => {
      socket.setTimeout(0);
      socket.off('timeout', onIdle);
    };
    req.once('end', stopIdleTimer);
    req.once('close', stopIdleTimer);
    // Once the answer is out, nobody will read the files: let the rest of the body drain.
    res.once('close', () => discards.forEach((discard) => discard()));
    req.pipe(parser);
  });
}
