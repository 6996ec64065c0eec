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
 * Pass the raw body exactly as received (not re-serialised JSON) and the request's headers.
 * Throws a VidqError (code INVALID_INPUT) when the delivery is not genuine; answer it with 400.
 */
export function verifyWebhook(secret: string, rawBody: string | Uint8Array, headers: HeaderBag): WebhookEvent {
  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  const wanted = {
    'webhook-id': header(headers, 'webhook-id'),
    'webhook-timestamp': header(headers, 'webhook-timestamp'),
    'webhook-signature': header(headers, 'webhook-signature'),
  };
  try {
    return new Webhook(secret).verify(body, wanted) as WebhookEvent;
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return rejectDelivery(error.message);
  }
}

function rejectDelivery(detail: string): never {
  throw new VidqError({ code: 'INVALID_INPUT', message: 'Not a genuine vidq webhook: signature or timestamp check failed.', detail });
}
