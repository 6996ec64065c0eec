// The OpenAPI 3.1 document of the REST paths (GET /api/openapi.json). A test checks it against the
// routes: every path and method here answers, with the statuses listed.
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

const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      { description: ERROR_TEXT[s] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHENTICATED (no key) or INVALID_API_KEY',
  402: 'INSUFFICIENT_CREDITS',
  403: 'FORBIDDEN',
  404: 'VIDEO_NOT_FOUND or JOB_NOT_FOUND',
  409: 'JOB_NOT_COMPLETE or JOB_ALREADY_PROCESSING',
  413: 'FILE_TOO_LARGE',
  415: 'UNSUPPORTED_FORMAT',
  422: 'VIDEO_CORRUPT or JOB_FAILED',
  429: 'RATE_LIMITED',
  504: 'JOB_TIMEOUT',
};
const ok = (status: number, description: string, ref: string) => ({
  [String(status)]: { description, content: { 'application/json': { schema: envelope({ $ref: `#/components/schemas/${ref}` }) } } },
});
const id = (name: string, prefix: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: `^${prefix}_` } });

export const REST_PATHS = {
  '/api/v1/jobs': {
    post: {
      summary: 'Submit a processing job for an uploaded video',
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['video_id'],
              properties: {
                video_id: { type: 'string' },
                model: { enum: ['FAST', 'ORIGINAL', 'PRO', 'fast', 'original', 'pro'] },
                output_format: { enum: ['MP4', 'WEBM', 'mp4', 'webm'] },
                background: {
                  type: 'object',
                  properties: { remove: { type: 'boolean' }, color: { type: 'string' }, similarity: { type: 'number' }, replace_with: { type: 'string' } },
                },
                webhook_url: { type: 'string', format: 'uri' },
                pipeline: { type: 'string', default: 'default' },
                stage_options: { type: 'object' },
                timeout_seconds: { type: 'integer' },
                idempotency_key: { type: 'string' },
              },
            },
          },
        },
      },
      responses: { ...ok(202, 'Accepted: the job is queued', 'Job'), ...errors(400, 401, 402, 404, 409, 429) },
    },
  },
  '/api/v1/jobs/{job_id}': {
    get: { summary: "A job's status, stages and error", parameters: [id('job_id', 'job')], responses: { ...ok(200, 'The job', 'Job'), ...errors(401, 404) } },
  },
  '/api/v1/jobs/{job_id}/result': {
    get: {
      summary: "A completed job's files (download URLs) and stage results",
      parameters: [id('job_id', 'job')],
      responses: { ...ok(200, 'The outputs', 'JobResult'), ...errors(401, 404, 409, 422, 504) },
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
              properties: { title: { type: 'string' }, video: { type: 'string', contentMediaType: 'application/octet-stream' } },
            },
          },
        },
      },
      responses: { ...ok(201, 'Created', 'Video'), ...errors(400, 401, 413, 415, 422, 429) },
    },
  },
  '/api/v1/videos/{video_id}': {
    get: { summary: 'A video and its metadata', parameters: [id('video_id', 'vid')], responses: { ...ok(200, 'The video', 'Video'), ...errors(401, 404) } },
  },
  '/api/pricing': {
    get: { summary: 'Credits per started minute by model, and the runtime configuration', responses: { ...ok(200, 'Pricing', 'Pricing'), ...errors(401) } },
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
            pipeline: { type: 'string' },
            cost_credits: { type: 'integer' },
            next_step: { type: 'string' },
            error: { type: ['object', 'null'] },
            stages: { type: 'array', items: { type: 'object' } },
          },
        },
        JobResult: {
          type: 'object',
          properties: { job_id: { type: 'string' }, files: { type: 'array', items: { type: 'object' } }, results: { type: 'object' } },
        },
        Video: {
          type: 'object',
          required: ['id', 'filename', 'format'],
          properties: { id: { type: 'string' }, filename: { type: 'string' }, format: { type: 'string' }, metadata: { type: 'object' } },
        },
        Pricing: { type: 'object', properties: { pricing: { type: 'object' }, health: { type: 'object' } } },
      },
    },
  };
}
