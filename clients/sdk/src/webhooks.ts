// Verifying vidq's webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) with
// the `standardwebhooks` library, and their payload types (the JSON Schema is served at
// /webhooks/schema.json and kept in the repository as webhooks.schema.json).
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { VidqError } from './errors.js';
import type { ErrorCode } from './generated/graphql.js';

export interface WebhookJobError {
  code: ErrorCode;
  message: string;
  detail: string;
  stage: string | null;
  retryable: boolean;
}

export interface WebhookOutputFile {
  kind: string;
  stage: string;
  path: string;
  contentType: string;
  sizeBytes: number;
  /** A signed download URL, valid as long as the API's download URLs are. */
  url: string;
}

export interface WebhookJob<S extends string> {
  id: string;
  status: S;
  videoId: string;
  error: WebhookJobError | null;
  progress: number;
  attempt: number;
  options: Record<string, unknown>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface Envelope<T extends string, D> {
  type: T;
  /** The event id, also in the webhook-id header: deduplicate by it (a delivery may be retried). */
  id: string;
  createdAt: string;
  data: D;
}

export type WebhookEvent =
  | Envelope<'job.completed', { job: WebhookJob<'COMPLETED'> & { output: { files: WebhookOutputFile[] } } }>
  | Envelope<'job.failed', { job: WebhookJob<'FAILED'> }>
  | Envelope<'job.timed_out', { job: WebhookJob<'TIMED_OUT'> }>
  | Envelope<'job.cancelled', { job: WebhookJob<'CANCELLED'> }>
  | Envelope<'webhook.test', { endpoint: { id: string; url: string; events: string[] }; message: string }>;

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string {
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/**
 * Checks the signature and the timestamp (at most 5 minutes old) of a delivery and returns its event.
 * Pass the raw body exactly as received (a string or a Buffer/Uint8Array, not parsed and re-serialised
 * JSON) and the request's headers. Throws a VidqError (code INVALID_INPUT) when the delivery is not
 * genuine (answer it with 400), and when the secret or the body cannot be used at all.
 */
export function verifyWebhook(secret: string, rawBody: string | Uint8Array, headers: HeaderBag): WebhookEvent {
  const body = rawBodyText(rawBody);
  const webhook = signer(secret);
  const wanted = {
    'webhook-id': header(headers ?? {}, 'webhook-id'),
    'webhook-timestamp': header(headers ?? {}, 'webhook-timestamp'),
    'webhook-signature': header(headers ?? {}, 'webhook-signature'),
  };
  try {
    return webhook.verify(body, wanted) as WebhookEvent;
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return rejectDelivery(error.message);
  }
}

function rawBodyText(rawBody: unknown): string {
  if (typeof rawBody === 'string') return rawBody;
  if (rawBody instanceof Uint8Array) return new TextDecoder().decode(rawBody); // Buffers too
  if (rawBody instanceof ArrayBuffer) return new TextDecoder().decode(new Uint8Array(rawBody));
  const got = rawBody === null ? 'null' : Array.isArray(rawBody) ? 'an array' : typeof rawBody === 'object' ? 'an object' : typeof rawBody;
  throw new VidqError({
    code: 'INVALID_INPUT',
    message:
      "verifyWebhook needs the body exactly as received: pass the raw request body (string or Buffer), not the parsed JSON — e.g. express.raw({ type: 'application/json' }) on the webhook's route.",
    detail: `rawBody is ${got}; the signature covers the exact bytes sent, which parsed JSON no longer has.`,
  });
}

/** The secret as standardwebhooks reads it: whsec_ followed by base64. */
function signer(secret: unknown): Webhook {
  const example = 'whsec_<base64>, e.g. viewer.webhookSecret or the secret createWebhookEndpoint returned';
  if (typeof secret !== 'string' || !secret.trim()) {
    throw new VidqError({
      code: 'INVALID_INPUT',
      message: `The webhook secret is missing: pass ${example}.`,
      detail: `secret is ${JSON.stringify(secret) ?? String(secret)}`,
    });
  }
  try {
    return new Webhook(secret.trim());
  } catch (error) {
    throw new VidqError({
      code: 'INVALID_INPUT',
      message: `The webhook secret is malformed: expected ${example}.`,
      detail: error instanceof Error ? error.message : String(error),
      cause: error,
    });
  }
}

function rejectDelivery(detail: string): never {
  throw new VidqError({ code: 'INVALID_INPUT', message: 'Not a genuine vidq webhook: signature or timestamp check failed.', detail });
}
