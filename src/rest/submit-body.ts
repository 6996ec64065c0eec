// POST /api/v1/jobs's JSON body: its JSON Schema (the one GET /api/openapi.json publishes), checked
// before GraphQL runs so that a wrong field answers 400 INVALID_INPUT naming the field as the client
// wrote it (`output_format`, `background.replace_with`) and what it may be; then mapped to
// SubmitJobInput. Rules that need the database or the registry (the video, the pipeline, the stage
// options, the webhook URL) stay the resolver's; its field errors come back with the REST names too.
import { Ajv, type ErrorObject } from 'ajv';
import type { ErrorMember } from './envelope';

export type FieldError = { path: string[]; message: string };

const BACKGROUND = {
  type: ['object', 'null'],
  description: 'Key out a coloured background (green screen). Sending it at all means "remove the background".',
  additionalProperties: false,
  properties: {
    remove: { type: 'boolean', default: true },
    color: { type: 'string', default: '#00ff00', description: 'Hex colour to key out.' },
    similarity: { type: 'number', minimum: 0.01, maximum: 1, default: 0.3, description: 'How close a colour must be to the key colour to be removed.' },
    replace_with: {
      type: ['string', 'null'],
      default: null,
      description: 'Hex colour put behind the subject; null or absent keeps it transparent (output_format webm only).',
    },
  },
} as const;

/** The request body schema of POST /api/v1/jobs (null for an optional field is the same as leaving it out). */
export const SUBMIT_JOB_BODY = {
  type: 'object',
  required: ['video_id'],
  additionalProperties: false,
  properties: {
    video_id: { type: 'string', minLength: 1 },
    model: { enum: ['FAST', 'ORIGINAL', 'PRO', 'fast', 'original', 'pro'], default: 'ORIGINAL', description: 'Any case.' },
    output_format: { enum: ['MP4', 'WEBM', 'mp4', 'webm'], default: 'MP4', description: 'Any case.' },
    background: BACKGROUND,
    webhook_url: { type: 'string', format: 'uri' },
    pipeline: { type: 'string', default: 'default' },
    stage_options: { type: 'object', description: 'Options per stage, e.g. {"annotate": {"label": "x"}}, checked against each stage\'s optionsSchema.' },
    timeout_seconds: { type: 'integer', minimum: 1, description: 'At most PROCESSING_TIMEOUT_SECONDS (GET /api/pricing: config.processing_timeout_seconds).' },
    idempotency_key: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

/** What each field may be, in the words of the 400 answer ("must be …"). */
function expected(path: string, timeoutLimit: number): string {
  const words: Record<string, string> = {
    video_id: 'the id of one of your videos, e.g. "vid_…"',
    model: 'one of FAST, ORIGINAL, PRO (any case)',
    output_format: 'one of MP4, WEBM (any case)',
    background: `an object with the fields ${Object.keys(BACKGROUND.properties).join(', ')}`,
    'background.remove': 'true or false',
    'background.color': 'a hex colour such as "#00ff00"',
    'background.similarity': 'a number between 0.01 and 1',
    'background.replace_with': 'a hex colour such as "#ffffff", or null for a transparent background (output_format webm only)',
    webhook_url: 'an http(s) URL',
    pipeline: 'the name of a pipeline, e.g. "default"',
    stage_options: 'an object with one entry per stage, e.g. {"annotate": {"label": "x"}}',
    timeout_seconds: `a whole number of seconds between 1 and ${timeoutLimit} (PROCESSING_TIMEOUT_SECONDS)`,
    idempotency_key: 'a string of 1 to 200 characters',
  };
  return words[path] ?? 'as GET /api/openapi.json describes it';
}

// verbose: each error carries its schema (the fields an unknown one is not among); `uri`: the resolver checks webhook_url itself.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, formats: { uri: true } });
const validate = ajv.compile(SUBMIT_JOB_BODY);

const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

function valueAt(body: unknown, path: string[]): unknown {
  return path.reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), body);
}

function fieldError(error: ErrorObject, body: unknown, timeoutLimit: number): FieldError {
  const at = error.instancePath.split('/').slice(1);
  if (error.keyword === 'required') {
    const path = [...at, (error.params as { missingProperty: string }).missingProperty];
    return { path, message: `is required: ${expected(path.join('.'), timeoutLimit)}` };
  }
  if (error.keyword === 'additionalProperties') {
    const path = [...at, (error.params as { additionalProperty: string }).additionalProperty];
    const known = Object.keys((error.parentSchema as { properties: object }).properties);
    return { path, message: `is not a field of this request; the fields are ${known.join(', ')}` };
  }
  return { path: at, message: `must be ${expected(at.join('.'), timeoutLimit)}; got ${shown(valueAt(body, at))}` };
}

/** The body as SubmitJobInput, or the field errors (paths start with `input`, as the resolver's do). */
export function submitJobInput(body: Record<string, unknown>, timeoutLimit: number): { input: Record<string, unknown> } | { fieldErrors: FieldError[] } {
  // null is "not given", as in GraphQL; the enums in any case, as the seeds write them ("fast").
  const given = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const normalized = { ...given };
  for (const name of ['model', 'output_format']) if (typeof normalized[name] === 'string') normalized[name] = (normalized[name] as string).toUpperCase();
  const problems = validate(normalized) ? [] : (validate.errors ?? []).map((e) => fieldError(e, given, timeoutLimit));
  // GraphQL's Int ends at 2^31 - 1: a larger number is refused here, as the resolver refuses any above the limit.
  if (typeof given.timeout_seconds === 'number' && given.timeout_seconds > timeoutLimit && !problems.some((p) => p.path[0] === 'timeout_seconds')) {
    problems.push({ path: ['timeout_seconds'], message: `must be ${expected('timeout_seconds', timeoutLimit)}; got ${shown(given.timeout_seconds)}` });
  }
  if (problems.length) return { fieldErrors: problems.map((p) => ({ path: ['input', ...p.path], message: p.message })) };

  const background = normalized.background as Record<string, unknown> | undefined;
  const input: Record<string, unknown> = {
    videoId: normalized.video_id,
    model: normalized.model,
    outputFormat: normalized.output_format,
    background: background && {
      remove: background.remove,
      color: background.color,
      similarity: background.similarity,
      replaceWith: background.replace_with,
    },
    webhookUrl: normalized.webhook_url,
    pipeline: normalized.pipeline,
    stageOptions: normalized.stage_options,
    timeoutSeconds: normalized.timeout_seconds,
    idempotencyKey: normalized.idempotency_key,
  };
  const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  if (input.background) input.background = defined(input.background as Record<string, unknown>);
  return { input: defined(input) };
}

/** GraphQL's names of the REST fields that are spelt differently (SubmitJobInput, UploadVideoInput). */
export const SUBMIT_JOB_NAMES: Record<string, string> = {
  videoId: 'video_id',
  outputFormat: 'output_format',
  webhookUrl: 'webhook_url',
  stageOptions: 'stage_options',
  timeoutSeconds: 'timeout_seconds',
  idempotencyKey: 'idempotency_key',
  replaceWith: 'replace_with',
};
export const UPLOAD_VIDEO_NAMES: Record<string, string> = { file: 'video', recordedAt: 'recorded_at', idempotencyKey: 'idempotency_key' };

/** A text that names GraphQL fields, with the REST names instead (camelCase names only: "file" stays a word). */
function restText(text: string, names: Record<string, string>): string {
  const camel = Object.keys(names).filter((n) => /[A-Z]/.test(n));
  return camel.length ? text.replace(new RegExp(`\\b(${camel.join('|')})\\b`, 'g'), (n) => names[n]) : text;
}

/** A path of a GraphQL field error (`input`, a field, for `background` one of its fields) with the REST names. */
function restPath(path: string[], names: Record<string, string>): string[] {
  return path.map((segment, i) => (i === 1 || (i === 2 && path[1] === 'background') ? (names[segment] ?? segment) : segment));
}

/** The resolver's error member, its field errors and detail in the REST names the client sent. */
export function withRestNames(error: ErrorMember, names: Record<string, string>): ErrorMember {
  if (!error.fieldErrors?.length) return { ...error, detail: restText(error.detail, names) };
  const fieldErrors = error.fieldErrors.map((f) => ({ path: restPath(f.path, names), message: restText(f.message, names) }));
  return { ...error, fieldErrors, detail: fieldErrors.map((f) => `${f.path.join('.')}: ${f.message}`).join('; ') };
}
