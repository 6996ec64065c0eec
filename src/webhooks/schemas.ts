// The JSON Schema (2020-12) of every webhook payload vidq sends, by event type: published at
// GET /webhooks/schema.json and committed as webhooks.schema.json (npm run schema:print), so receivers
// can validate what they get and generate types from it.
import { ERROR_CODES } from '../errors/catalog';
import { TEST_EVENT_TYPE, WEBHOOK_EVENT_TYPES } from './events';

const isoTime = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

const jobError = {
  type: ['object', 'null'],
  required: ['code', 'message', 'detail', 'stage', 'retryable'],
  properties: {
    code: { enum: [...ERROR_CODES] },
    message: { type: 'string' },
    detail: { type: 'string' },
    stage: { type: ['string', 'null'] },
    retryable: { type: 'boolean' },
  },
};

const outputFile = {
  type: 'object',
  required: ['kind', 'stage', 'path', 'contentType', 'sizeBytes', 'url'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', description: 'video, poster, thumbnail…' },
    stage: { type: 'string' },
    path: { type: 'string' },
    contentType: { type: 'string' },
    sizeBytes: { type: 'number' },
    url: { type: 'string', format: 'uri', description: 'Downloads the file without an API key, for 24 hours.' },
  },
};

function jobEvent(type: string, withOutput: boolean) {
  return {
    type: 'object',
    required: ['type', 'id', 'createdAt', 'data'],
    additionalProperties: false,
    properties: {
      type: { const: type },
      id: { type: 'string', pattern: '^evt_', description: 'The event id (also the webhook-id header): deduplicate by it.' },
      createdAt: isoTime,
      data: {
        type: 'object',
        required: ['job'],
        additionalProperties: false,
        properties: {
          job: {
            type: 'object',
            required: [
              'id',
              'status',
              'videoId',
              'error',
              'progress',
              'attempt',
              'options',
              'createdAt',
              'startedAt',
              'finishedAt',
              ...(withOutput ? ['output'] : []),
            ],
            additionalProperties: false,
            properties: {
              id: { type: 'string', pattern: '^job_' },
              status: { const: type.slice('job.'.length).toUpperCase(), description: 'The terminal status the event is named after.' },
              videoId: { type: 'string', pattern: '^vid_' },
              error: jobError,
              progress: { type: 'number', minimum: 0, maximum: 1 },
              attempt: { type: 'integer', minimum: 0 },
              options: { type: 'object' },
              createdAt: isoTime,
              startedAt: nullableTime,
              finishedAt: nullableTime,
              ...(withOutput
                ? { output: { type: 'object', required: ['files'], additionalProperties: false, properties: { files: { type: 'array', items: outputFile } } } }
                : {}),
            },
          },
        },
      },
    },
  };
}

const testEvent = {
  type: 'object',
  required: ['type', 'id', 'createdAt', 'data'],
  additionalProperties: false,
  properties: {
    type: { const: TEST_EVENT_TYPE },
    id: { type: 'string', pattern: '^evt_' },
    createdAt: isoTime,
    data: {
      type: 'object',
      required: ['endpoint', 'message'],
      properties: {
        endpoint: {
          type: 'object',
          required: ['id', 'url', 'events'],
          properties: { id: { type: 'string' }, url: { type: 'string' }, events: { type: 'array' } },
        },
        message: { type: 'string' },
      },
    },
  },
};

const defName = (type: string) => type.replace(/\.(\w)/g, (_, c: string) => c.toUpperCase()).replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

export const WEBHOOK_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'vidq-webhooks.schema.json',
  title: 'vidq webhook payloads',
  description: 'The JSON body of every webhook vidq sends, signed with Standard Webhooks. `type` tells them apart.',
  oneOf: [...WEBHOOK_EVENT_TYPES, TEST_EVENT_TYPE].map((type) => ({ $ref: `#/$defs/${defName(type)}` })),
  $defs: {
    ...Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [defName(type), jobEvent(type, type === 'job.completed')])),
    [defName(TEST_EVENT_TYPE)]: testEvent,
  },
};

/** The schema as served and committed. */
export function printedWebhookSchema(): string {
  return `${JSON.stringify(WEBHOOK_SCHEMA, null, 2)}\n`;
}
