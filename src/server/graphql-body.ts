// The body of a GraphQL POST that is not an upload, read here before Yoga runs: with a size cap, and
// (for JSON, what every client sends) parsed once here. Letting Yoga read it instead costs a web stream
// pipeline per request for its size limit and another to reach the text — a fifth of a small request's
// CPU (BENCHMARKS.md, GraphQL).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { sendJson } from './http-json';

/** A query within graphql-armor's limits, with its variables, is a few KB; uploads go elsewhere. */
export const MAX_GRAPHQL_BODY_BYTES = 1024 * 1024;

/** Hands Yoga the operation parameters; throws Yoga-shaped 400 errors for a body that is not one. */
export type BodyParser = () => unknown;

function tooLarge(res: ServerResponse) {
  res.setHeader('connection', 'close'); // the rest of the body is not read
  sendJson(res, 413, {
    errors: [
      {
        message: `Request body too large: a GraphQL request may be at most ${MAX_GRAPHQL_BODY_BYTES} bytes. Upload files with a multipart request.`,
        // A code of the error catalog, as every refusal has; the HTTP status says which kind.
        extensions: {
          code: 'INVALID_INPUT',
          detail: `The body passed ${MAX_GRAPHQL_BODY_BYTES} bytes. Send files with uploadVideo (multipart) or tus at /uploads, not inside variables.`,
        },
      },
    ],
  });
}

/** A body that is no GraphQL request: 400 INVALID_INPUT (a code of the error catalog), saying what to send. */
function badRequest(message: string, cause?: unknown) {
  const why = cause instanceof Error ? ` (${cause.message})` : '';
  return new GraphQLError(message, {
    extensions: {
      http: { status: 400 },
      code: 'INVALID_INPUT',
      detail: `${message}${why} Send a JSON object {"query": "…", "variables": {…}} with content-type application/json.`,
    },
  });
}

function isJson(req: IncomingMessage) {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'application/graphql+json';
}

/** Reads the whole body, or answers 413 (and returns null) once it passes the cap. */
function readCapped(req: IncomingMessage, res: ServerResponse): Promise<Buffer | null> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > MAX_GRAPHQL_BODY_BYTES) {
    tooLarge(res);
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_GRAPHQL_BODY_BYTES) {
        req.off('data', onData);
        req.pause();
        tooLarge(res);
        resolve(null);
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/**
 * Reads a GraphQL POST body. Returns the parser Yoga should use (none: Yoga parses a body of another
 * content type itself, or refuses it), or null when the response was already sent (413).
 */
export async function readGraphQLBody(req: IncomingMessage, res: ServerResponse): Promise<{ parser?: BodyParser } | null> {
  const body = await readCapped(req, res);
  if (!body) return null;
  if (!isJson(req)) {
    // whatwg-node takes an already-read body from req.body instead of the (consumed) stream.
    (req as IncomingMessage & { body?: Buffer }).body = body;
    return {};
  }
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return {
      parser: () => {
        throw badRequest('POST body sent invalid JSON.', error);
      },
    };
  }
  if (params === null || typeof params !== 'object') {
    return {
      parser: () => {
        throw badRequest(`POST body is expected to be object but received ${params === null ? 'null' : typeof params}`);
      },
    };
  }
  return { parser: () => params };
}
