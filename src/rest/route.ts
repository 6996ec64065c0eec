// The seeds' REST paths (seed 003), on the same keys and the same resolvers: each path runs a GraphQL
// operation through Yoga (authentication, validation, limits and metrics included) and maps its result
// union to seed 003's envelope and the error catalog's HTTP status.
//
//   GET  /api/v1/jobs/{job_id}          GET /api/v1/jobs/{job_id}/result (409 JOB_NOT_COMPLETE before the end)
//   POST /api/v1/jobs (JSON, 202)       GET /api/v1/videos/{video_id}
//   POST /api/v1/videos (multipart `video` + `title`, 201, streamed like uploadVideo)
//   GET  /api/pricing                   GET /api/openapi.json (no key)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CATALOG, type ErrorCode } from '../errors/catalog';
import { renameVideo } from '../uploads/queries';
import { validateFields } from '../uploads/upload';
import { readJsonBody } from './json-body';
import { currentRequest } from '../server/request-context';
import { unavailableCause, unavailableMessage } from '../server/unavailable';
import type { HttpRoute } from '../server/route';
import type { Yoga } from '../server/yoga';
import type { Services } from '../services';
import { type ErrorMember, sendData, sendEnvelope, sendError } from './envelope';
import { openApiDocument } from './openapi';
import { REST_OPERATIONS } from './operations';
import { type FieldError, SUBMIT_JOB_NAMES, UPLOAD_VIDEO_NAMES, submitJobInput, withRestNames } from './submit-body';
import type { Upload } from 'graphql-upload-ts';

type FormParser = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;
type Operation = { query: string; variables?: Record<string, unknown> };

interface GraphQLAnswer {
  data?: Record<string, Record<string, unknown> | null> | null;
  errors?: Array<{ message: string; extensions?: { code?: string; detail?: unknown } }>;
}

/** The form fields of each REST upload, by its Upload: a `title` sent after the file arrives late. */
const formFieldsOf = new WeakMap<object, Record<string, string>>();

/** The REST upload form: the file part `video`, and `title` (before the file, or after it). */
export const REST_UPLOAD_FORM = {
  fileField: 'video',
  textFields: ['title', 'recorded_at', 'idempotency_key'],
  operations: (fields: Record<string, string>, upload: Upload) => {
    formFieldsOf.set(upload, fields);
    return {
      query: REST_OPERATIONS.uploadVideo,
      variables: { input: { file: upload, title: fields.title, recordedAt: fields.recorded_at, idempotencyKey: fields.idempotency_key } },
    };
  },
};

/** A title that came after the file part: checked like uploadVideo's, then set on the new video. */
async function applyLateTitle(services: Services, operations: unknown, title: string | undefined, video: Record<string, unknown>) {
  const upload = (operations as { variables: { input: { file: object } } }).variables.input.file;
  const late = formFieldsOf.get(upload)?.title;
  if (late === undefined || late === title) return null;
  const problems = validateFields({ title: late });
  if (problems.length) return problems;
  await renameVideo(services.database.db, video.id as string, late);
  video.title = late.trim() || null;
  return null;
}

async function execute(
  yoga: Yoga,
  req: IncomingMessage,
  res: ServerResponse,
  operation: Operation | (() => unknown),
): Promise<{ status: number; headers: Headers; body: GraphQLAnswer }> {
  const response = await yoga.fetch(
    'http://localhost/graphql',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      },
    },
    { req, res, parseBody: typeof operation === 'function' ? operation : () => operation },
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLAnswer };
}

/** An unexpected failure: masked, with the request id the log line carries (503 when a dependency is down). */
function sendUnexpected(services: Services, res: ServerResponse, error: unknown) {
  const requestId = currentRequest()?.requestId ?? 'unknown';
  const unavailable = unavailableCause(error);
  if (unavailable) {
    services.log.warn({ err: error, requestId }, `service unavailable: ${unavailable}`);
    const entry = ERROR_CATALOG.SERVICE_UNAVAILABLE;
    return sendEnvelope(res, entry.httpStatus, {
      success: false,
      message: entry.message,
      error: { detail: unavailableMessage(unavailable, requestId), code: entry.code },
    });
  }
  services.log.error({ err: error, requestId }, 'unexpected error in a REST path (masked from the client)');
  sendEnvelope(res, 500, {
    success: false,
    message: ERROR_CATALOG.INTERNAL_ERROR.message,
    error: { detail: `Unexpected error. Quote request id ${requestId} when reporting it.`, code: 'INTERNAL_ERROR' },
  });
}

/**
 * A request-level failure in the envelope, with its status and headers: no key or a bad key (401), a
 * limit (429), a dependency down (503), or an unexpected error (500 INTERNAL_ERROR, masked, quoting the
 * request id). A wrong body never gets here: the REST checks refuse it first (submit-body.ts), so a
 * variable GraphQL refuses is a mapping bug of ours, answered as unexpected.
 */
function sendRequestError(services: Services, res: ServerResponse, { body: answer, headers }: { body: GraphQLAnswer; headers: Headers }) {
  const first = answer.errors?.[0];
  // Yoga turns the error's HTTP headers into the response's (a 429's Retry-After): they go on as they are.
  const retryAfter = headers.get('retry-after');
  if (retryAfter) res.setHeader('retry-after', retryAfter);
  const code = first?.extensions?.code as ErrorCode | undefined;
  const entry = code ? ERROR_CATALOG[code] : undefined;
  // A variable GraphQL refused (src/server/yoga.ts) is a mapping bug of ours; a NUL in a path id is the caller's.
  const variableRefused = code === 'INVALID_INPUT' && first?.message.startsWith('Variable "$');
  if (!first || !code || !entry || variableRefused)
    return sendUnexpected(services, res, new Error(`GraphQL answered ${code ?? 'without a code'}: ${first?.message}`));
  // The detail says what to do next where the error carries one (a missing or wrong key), as on /graphql.
  const detail = typeof first.extensions?.detail === 'string' ? first.extensions.detail : first.message;
  sendEnvelope(res, entry.httpStatus, { success: false, message: entry.message, error: { detail, code } });
}

interface RespondOptions {
  /** The HTTP status of the success member. */
  status: number;
  /** What of the success member is sent as `data`. */
  pick?: (member: Record<string, unknown>) => unknown;
  /** Runs on a success member before it is sent; an error member it returns is sent instead. */
  after?: (member: Record<string, unknown>) => Promise<ErrorMember | null>;
  /** GraphQL's names of the input fields the REST request spells otherwise: errors name the REST ones. */
  names?: Record<string, string>;
}

/** Runs the operation; sends the union's success member with `status`, any error member in the envelope. */
async function respond(
  services: Services,
  yoga: Yoga,
  req: IncomingMessage,
  res: ServerResponse,
  field: string,
  operation: Operation | (() => unknown),
  { status, pick = (m) => m, after, names = {} }: RespondOptions,
) {
  const answer = await execute(yoga, req, res, operation);
  const member = answer.body.data?.[field];
  if (!member) return sendRequestError(services, res, answer);
  const typename = (member.__typename as string | undefined) ?? '';
  if (typeof member.code === 'string' && typename.endsWith('Error')) return sendError(res, withRestNames(member as unknown as ErrorMember, names));
  const refused = after ? await after(member) : null;
  if (refused) return sendError(res, withRestNames(refused, names));
  const { __typename: _typename, ...rest } = member;
  sendData(res, status, pick(rest));
}

function notFound(res: ServerResponse, path: string) {
  sendEnvelope(res, 404, {
    success: false,
    message: 'No such API path.',
    error: { detail: `${path} is not a vidq REST path; see GET /api/openapi.json.`, code: 'NOT_FOUND' },
  });
}

function invalidInput(res: ServerResponse, detail: string, fieldErrors?: FieldError[]) {
  sendError(res, { code: 'INVALID_INPUT', message: ERROR_CATALOG.INVALID_INPUT.message, detail, fieldErrors });
}

/**
 * A request refused before GraphQL runs answers as GraphQL would have answered it first: a missing or
 * bad key is a 401 (or the address's 429), whatever the body. Sends that and returns true, or false
 * when the key is good.
 */
async function refusedKey(services: Services, yoga: Yoga, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const answer = await execute(yoga, req, res, { query: REST_OPERATIONS.authenticate });
  if (!answer.body.errors?.length) return false;
  sendRequestError(services, res, answer);
  return true;
}

/** POST /api/v1/jobs: the JSON body, checked and mapped to SubmitJobInput (src/rest/submit-body.ts). */
async function submitJob(services: Services, yoga: Yoga, req: IncomingMessage, res: ServerResponse) {
  const body = await readJsonBody(req, res, 64 * 1024);
  if (body === undefined) return; // answered: too large
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  const checked = isObject ? submitJobInput(body as Record<string, unknown>, services.config.processingTimeoutSeconds) : null;
  if (!checked || 'fieldErrors' in checked) {
    if (await refusedKey(services, yoga, req, res)) return;
    if (!checked) {
      const what =
        body === null
          ? 'The body is not a JSON object (it is empty, malformed or null)'
          : `The body is a JSON ${Array.isArray(body) ? 'array' : typeof body}, not an object`;
      return invalidInput(res, `${what}. Send a JSON object: {"video_id": "vid_…", "model": "fast", "output_format": "mp4", …}.`);
    }
    return invalidInput(res, checked.fieldErrors.map((f) => `${f.path.join('.')}: ${f.message}`).join('; '), checked.fieldErrors);
  }
  await respond(
    services,
    yoga,
    req,
    res,
    'submitJob',
    { query: REST_OPERATIONS.submitJob, variables: { input: checked.input } },
    {
      status: 202,
      pick: (m) => m.job,
      names: SUBMIT_JOB_NAMES,
    },
  );
}

async function route(services: Services, yoga: Yoga, parseForm: FormParser, req: IncomingMessage, res: ServerResponse, path: string, method: string) {
  if (path === '/api/openapi.json' && method === 'GET') {
    return sendEnvelope(res, 200, openApiDocument(services.config.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`));
  }
  if (path === '/api/pricing' && method === 'GET') {
    // Seed 002: "check /health and /api/pricing to verify runtime config": the prices and the config.
    const answer = await execute(yoga, req, res, { query: REST_OPERATIONS.pricing });
    const data = answer.body.data;
    if (!data?.pricing || !data.health) return sendRequestError(services, res, answer);
    return sendData(res, 200, { ...data.pricing, version: data.health.version, config: data.health.config });
  }
  let match: RegExpExecArray | null;
  if ((match = /^\/api\/v1\/jobs\/([^/]+)$/.exec(path)) && method === 'GET') {
    return respond(services, yoga, req, res, 'job', { query: REST_OPERATIONS.job, variables: { id: decodeURIComponent(match[1]) } }, { status: 200 });
  }
  if ((match = /^\/api\/v1\/jobs\/([^/]+)\/result$/.exec(path)) && method === 'GET') {
    const operation = { query: REST_OPERATIONS.jobResult, variables: { id: decodeURIComponent(match[1]) } };
    return respond(services, yoga, req, res, 'jobOutput', operation, { status: 200 });
  }
  if (path === '/api/v1/jobs' && method === 'POST') return submitJob(services, yoga, req, res);
  if ((match = /^\/api\/v1\/videos\/([^/]+)$/.exec(path)) && method === 'GET') {
    return respond(services, yoga, req, res, 'video', { query: REST_OPERATIONS.video, variables: { id: decodeURIComponent(match[1]) } }, { status: 200 });
  }
  if (path === '/api/v1/videos' && method === 'POST') {
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
      if (await refusedKey(services, yoga, req, res)) return;
      return invalidInput(res, 'Send multipart/form-data with the file in the part `video` (and `title`): curl -F title=… -F video=@clip.mp4');
    }
    const operations = await parseForm(req, res);
    if (res.writableEnded || !operations) return; // the parser answered (malformed, rate limited, client gone)
    // Without a valid key the parser hands back a stub that Yoga answers 401: it has no variables.
    const early = (operations as { variables?: { input?: { title?: string } } }).variables?.input?.title;
    return respond(services, yoga, req, res, 'uploadVideo', () => operations, {
      status: 201,
      pick: (m) => m.video,
      names: UPLOAD_VIDEO_NAMES,
      after: async (member) => {
        const video = member.video as Record<string, unknown>;
        const problems = await applyLateTitle(services, operations, early, video);
        // A refused title refuses the upload: the video just made goes again, nothing is kept.
        if (problems) await execute(yoga, req, res, { query: REST_OPERATIONS.deleteVideo, variables: { id: video.id } });
        return (
          problems && {
            code: 'INVALID_INPUT',
            message: ERROR_CATALOG.INVALID_INPUT.message,
            detail: problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '),
            fieldErrors: problems,
          }
        );
      },
    });
  }
  notFound(res, `${method} ${path}`);
}

export function restRoute(services: Services, yoga: Yoga, parseForm: FormParser): HttpRoute {
  return async (req, res, url) => {
    if (!url.pathname.startsWith('/api/')) return false;
    try {
      await route(services, yoga, parseForm, req, res, url.pathname, req.method ?? 'GET');
    } catch (error) {
      // Thrown outside GraphQL (a late title's rename, a body cut off): in the envelope too, masked.
      if (res.headersSent) res.destroy();
      else sendUnexpected(services, res, error);
    }
    return true;
  };
}
