// The OpenAPI 3.1 document of the REST paths (GET /api/openapi.json). A test checks it against the
// routes: every path and method here answers, with the statuses listed; the error statuses are the
// error catalog's for the codes each path can answer.
import { ERROR_CATALOG, type ErrorCode } from '../errors/catalog';
import { SUBMIT_JOB_BODY } from './submit-body';

const envelope = (data: Record<string, unknown>) => ({
  type: 'object',
  required: ['success', 'data'],
  properties: { success: { const: true }, data },
});

const errorEnvelope = {
  type: 'object',
  required: ['success', 'message', 'error'],
  properties: {
    success: { const: false },
    message: { type: 'string', description: 'Human readable, safe to show to end users.' },
    error: {
      type: 'object',
      required: ['detail', 'code'],
      properties: {
        detail: { type: 'string', description: 'Technical detail about the failure.' },
        code: { type: 'string', description: 'A stable error code (GET /graphql errorCatalog lists them all).' },
        field_errors: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'array', items: { type: 'string' } }, message: { type: 'string' } } },
        },
      },
    },
  },
};

/** What every path with a key may answer: the key (401), the address's failed keys (429), a masked fault, a dependency down. */
const COMMON: ErrorCode[] = ['UNAUTHENTICATED', 'INVALID_API_KEY', 'RATE_LIMITED', 'INTERNAL_ERROR', 'SERVICE_UNAVAILABLE'];

/** The error responses of a path: each code at its catalog HTTP status (GET /api/openapi.json lists each status once). */
function errors(codes: ErrorCode[], extra: Record<number, string> = {}) {
  const byStatus = new Map<number, string[]>();
  for (const code of [...codes, ...COMMON]) byStatus.set(ERROR_CATALOG[code].httpStatus, [...(byStatus.get(ERROR_CATALOG[code].httpStatus) ?? []), code]);
  for (const [status, text] of Object.entries(extra)) byStatus.set(Number(status), [...(byStatus.get(Number(status)) ?? []), text]);
  return Object.fromEntries(
    [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, what]) => [
        String(status),
        { description: what.join(' or '), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      ]),
  );
}
const ok = (status: number, description: string, ref: string) => ({
  [String(status)]: { description, content: { 'application/json': { schema: envelope({ $ref: `#/components/schemas/${ref}` }) } } },
});
const id = (name: string, prefix: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: `^${prefix}_` } });

export const REST_PATHS = {
  '/api/v1/jobs': {
    post: {
      summary: 'Submit a processing job for an uploaded video',
      requestBody: { required: true, content: { 'application/json': { schema: SUBMIT_JOB_BODY } } },
      responses: {
        ...ok(202, 'Accepted: the job is queued', 'Job'),
        ...errors(['INVALID_INPUT', 'INSUFFICIENT_CREDITS', 'VIDEO_NOT_FOUND', 'JOB_ALREADY_PROCESSING'], {
          413: 'INVALID_INPUT (the JSON body is over 64 KB)',
        }),
      },
    },
  },
  '/api/v1/jobs/{job_id}': {
    get: {
      summary: "A job's status, stages and error",
      parameters: [id('job_id', 'job')],
      responses: { ...ok(200, 'The job', 'Job'), ...errors(['INVALID_INPUT', 'JOB_NOT_FOUND']) },
    },
  },
  '/api/v1/jobs/{job_id}/result': {
    get: {
      summary: "A completed job's files (download URLs) and stage results",
      parameters: [id('job_id', 'job')],
      responses: { ...ok(200, 'The outputs', 'JobResult'), ...errors(['INVALID_INPUT', 'JOB_NOT_FOUND', 'JOB_NOT_COMPLETE', 'JOB_FAILED', 'JOB_TIMEOUT']) },
    },
  },
  '/api/v1/videos': {
    post: {
      summary: 'Upload a video (streamed; mp4, mov, avi, mkv, webm)',
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['video'],
              properties: {
                title: { type: 'string' },
                recorded_at: { type: 'string', format: 'date-time' },
                idempotency_key: { type: 'string' },
                video: { type: 'string', contentMediaType: 'application/octet-stream' },
              },
            },
          },
        },
      },
      responses: {
        ...ok(201, 'Created', 'Video'),
        ...errors(['INVALID_INPUT', 'FILE_TOO_LARGE', 'UNSUPPORTED_FORMAT', 'VIDEO_CORRUPT'], { 413: 'INVALID_INPUT (a form field or too many files)' }),
      },
    },
  },
  '/api/v1/videos/{video_id}': {
    get: {
      summary: 'A video and its metadata',
      parameters: [id('video_id', 'vid')],
      responses: { ...ok(200, 'The video', 'Video'), ...errors(['INVALID_INPUT', 'VIDEO_NOT_FOUND']) },
    },
  },
  '/api/pricing': {
    get: { summary: 'Credits per started minute by model, and the runtime configuration', responses: { ...ok(200, 'Pricing', 'Pricing'), ...errors([]) } },
  },
} as const;

export function openApiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'vidq REST API',
      version: '1',
      description:
        'The seeds\' REST paths over vidq\'s GraphQL API (same keys, same rules). Every answer is {"success": true, "data": …} or {"success": false, "message", "error": {"detail", "code"}}.',
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths: REST_PATHS,
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer vq_…' } },
      schemas: {
        Error: errorEnvelope,
        Job: {
          type: 'object',
          required: ['id', 'status', 'progress'],
          properties: {
            id: { type: 'string' },
            status: { enum: ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] },
            progress: { type: 'number' },
            stage: { type: ['string', 'null'] },
            stages: { type: 'array', items: { type: 'object' } },
            attempt: { type: 'integer' },
            max_attempts: { type: 'integer' },
            pipeline: { type: 'string' },
            cost_credits: { type: 'integer' },
            video: { type: 'object', properties: { id: { type: 'string' } } },
            options: {
              type: 'object',
              properties: {
                model: { enum: ['FAST', 'ORIGINAL', 'PRO'] },
                output_format: { enum: ['MP4', 'WEBM'] },
                background: {
                  type: ['object', 'null'],
                  properties: {
                    remove: { type: 'boolean' },
                    color: { type: 'string' },
                    similarity: { type: 'number' },
                    replace_with: { type: ['string', 'null'] },
                  },
                },
              },
            },
            webhook_url: { type: ['string', 'null'] },
            error: { type: ['object', 'null'] },
            next_step: { type: ['string', 'null'] },
            created_at: { type: 'string', format: 'date-time' },
            started_at: { type: ['string', 'null'], format: 'date-time' },
            finished_at: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        JobResult: {
          type: 'object',
          properties: {
            job_id: { type: 'string' },
            files: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  kind: { type: 'string' },
                  stage: { type: 'string' },
                  url: { type: 'string' },
                  content_type: { type: 'string' },
                  size_bytes: { type: 'integer' },
                },
              },
            },
            results: { type: 'object', description: "Each stage's result, with the stage's own keys." },
          },
        },
        Video: {
          type: 'object',
          required: ['id', 'filename', 'format'],
          properties: {
            id: { type: 'string' },
            filename: { type: 'string' },
            format: { type: 'string' },
            content_type: { type: 'string' },
            size_bytes: { type: 'integer' },
            sha256: { type: 'string' },
            title: { type: ['string', 'null'] },
            recorded_at: { type: ['string', 'null'], format: 'date-time' },
            created_at: { type: 'string', format: 'date-time' },
            metadata: { type: 'object' },
          },
        },
        Pricing: {
          type: 'object',
          properties: {
            unit: { type: 'string' },
            models: {
              type: 'array',
              items: { type: 'object', properties: { model: { enum: ['FAST', 'ORIGINAL', 'PRO'] }, credits_per_started_minute: { type: 'integer' } } },
            },
            version: { type: 'string' },
            config: { type: 'object', description: 'The runtime configuration, as GET /health gives it (snake_case).' },
          },
        },
      },
    },
  };
}
