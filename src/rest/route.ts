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
import type { HttpRoute } from '../server/route';
import type { Yoga } from '../server/yoga';
import type { Services } from '../services';
import { type ErrorMember, sendData, sendEnvelope, sendError } from './envelope';
import { openApiDocument } from './openapi';
import { REST_OPERATIONS } from './operations';
import type { Upload } from 'graphql-upload-ts';

type FormParser = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>;
type Operation = { query: string; variables?: Record<string, unknown> };

interface GraphQLAnswer {
  data?: Record<string, Record<string, unknown> | null> | null;
  errors?: Array<{ message: string; extensions?: { code?: string; http?: { headers?: Record<string, string> } } }>;
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
): Promise<{ status: number; body: GraphQLAnswer }> {
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
  return { status: response.status, body: (await response.json()) as GraphQLAnswer };
}

/** A request-level failure (no key, a bad key, a limit) in the envelope, with its status and headers. */
function sendRequestError(res: ServerResponse, status: number, answer: GraphQLAnswer) {
  const first = answer.errors?.[0];
  const code = (first?.extensions?.code ?? 'INTERNAL_ERROR') as ErrorCode;
  const entry = ERROR_CATALOG[code];
  for (const [name, value] of Object.entries(first?.extensions?.http?.headers ?? {})) res.setHeader(name, value);
  sendEnvelope(res, entry?.httpStatus ?? (status >= 400 ? status : 500), {
    success: false,
    message: entry?.message ?? 'The request failed.',
    error: { detail: first?.message ?? 'unknown error', code: entry ? code : 'INTERNAL_ERROR' },
  });
}

/** Runs the operation; sends the union's success member with `status`, any error member in the envelope. */
async function respond(
  yoga: Yoga,
  req: IncomingMessage,
  res: ServerResponse,
  field: string,
  operation: Operation | (() => unknown),
  status: number,
  pick: (member: Record<string, unknown>) => unknown = (m) => m,
  /** Runs on a success member before it is sent; an error member it returns is sent instead. */
  after?: (member: Record<string, unknown>) => Promise<ErrorMember | null>,
) {
  const answer = await execute(yoga, req, res, operation);
  const member = answer.body.data?.[field];
  if (!member) return sendRequestError(res, answer.status, answer.body);
  const typename = (member.__typename as string | undefined) ?? '';
  if (typeof member.code === 'string' && typename.endsWith('Error')) return sendError(res, member as unknown as ErrorMember);
  const refused = after ? await after(member) : null;
  if (refused) return sendError(res, refused);
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

function badJson(res: ServerResponse, detail: string) {
  sendError(res, { code: 'INVALID_INPUT', message: ERROR_CATALOG.INVALID_INPUT.message, detail });
}

/** POST /api/v1/jobs's JSON body, snake_case as the seeds write it, into SubmitJobInput. */
function submitInput(body: Record<string, unknown>) {
  const input: Record<string, unknown> = {
    videoId: body.video_id,
    model: body.model,
    outputFormat: body.output_format,
    background: body.background,
    webhookUrl: body.webhook_url,
    pipeline: body.pipeline,
    stageOptions: body.stage_options,
    timeoutSeconds: body.timeout_seconds,
    idempotencyKey: body.idempotency_key,
  };
  if (typeof input.model === 'string') input.model = input.model.toUpperCase(); // "fast" as the seeds write it
  if (typeof input.outputFormat === 'string') input.outputFormat = input.outputFormat.toUpperCase();
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

export function restRoute(services: Services, yoga: Yoga, parseForm: FormParser): HttpRoute {
  return async (req, res, url) => {
    const path = url.pathname;
    if (!path.startsWith('/api/')) return false;
    const method = req.method ?? 'GET';
    if (path === '/api/openapi.json' && method === 'GET') {
      sendEnvelope(res, 200, openApiDocument(services.config.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`));
      return true;
    }
    if (path === '/api/pricing' && method === 'GET') {
      // Seed 002: "check /health and /api/pricing to verify runtime config": the prices and the config.
      const answer = await execute(yoga, req, res, { query: REST_OPERATIONS.pricing });
      const data = answer.body.data;
      if (!data?.pricing || !data.health) return (sendRequestError(res, answer.status, answer.body), true);
      sendData(res, 200, { ...data.pricing, version: data.health.version, config: data.health.config });
      return true;
    }
    let match: RegExpExecArray | null;
    if ((match = /^\/api\/v1\/jobs\/([^/]+)$/.exec(path)) && method === 'GET') {
      await respond(yoga, req, res, 'job', { query: REST_OPERATIONS.job, variables: { id: decodeURIComponent(match[1]) } }, 200);
      return true;
    }
    if ((match = /^\/api\/v1\/jobs\/([^/]+)\/result$/.exec(path)) && method === 'GET') {
      await respond(yoga, req, res, 'jobOutput', { query: REST_OPERATIONS.jobResult, variables: { id: decodeURIComponent(match[1]) } }, 200);
      return true;
    }
    if (path === '/api/v1/jobs' && method === 'POST') {
      const body = await readJsonBody(req, res, 64 * 1024);
      if (body === undefined) return true; // answered: too large
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        badJson(res, 'Send a JSON object: {"video_id": "vid_…", "model": "FAST", "output_format": "MP4", …}.');
        return true;
      }
      await respond(
        yoga,
        req,
        res,
        'submitJob',
        { query: REST_OPERATIONS.submitJob, variables: { input: submitInput(body as Record<string, unknown>) } },
        202,
        (m) => m.job,
      );
      return true;
    }
    if ((match = /^\/api\/v1\/videos\/([^/]+)$/.exec(path)) && method === 'GET') {
      await respond(yoga, req, res, 'video', { query: REST_OPERATIONS.video, variables: { id: decodeURIComponent(match[1]) } }, 200);
      return true;
    }
    if (path === '/api/v1/videos' && method === 'POST') {
      if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
        badJson(res, 'Send multipart/form-data with the file in the part `video` (and `title`): curl -F title=… -F video=@clip.mp4');
        return true;
      }
      const operations = await parseForm(req, res);
      if (res.writableEnded || !operations) return true; // the parser answered (malformed, rate limited, client gone)
      const early = (operations as { variables: { input: { title?: string } } }).variables.input.title;
      await respond(
        yoga,
        req,
        res,
        'uploadVideo',
        () => operations,
        201,
        (m) => m.video,
        async (member) => {
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
      );
      return true;
    }
    notFound(res, `${method} ${path}`);
    return true;
  };
}
