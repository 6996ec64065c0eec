// Helpers shared by the webhook delivery tests: terminal events without running a job, waiting for a
// delivery, reading its attempt log, and endpoints through the public API.
import { storedDeliveryId } from '../../src/webhooks/delivery-id';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { newId } from '../../src/db/ids';
import { webhookDeliveries, webhookDeliveryAttempts } from '../../src/db/schema/index';
import { enqueueJobWebhooks } from '../../src/webhooks/events';
import type { JobStatus } from '../../src/jobs/status';
import type { TestApp, TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { waitFor } from '../helpers/jobs';
import type { Received } from '../helpers/webhook-receiver';
import type { JobRow } from '../../src/db/schema/index';

/** Small delays so retries and circuits play out in seconds. */
export const FAST_WEBHOOKS = {
  WEBHOOK_RETRY_BASE_SECONDS: '0.3',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: '1',
};

/**
 * A job's terminal event, created exactly as finishJob creates it (same function, same transaction
 * shape), for tests where running a whole job is not the point. The job itself is synthetic.
 */
export async function emitTerminalEvent(app: TestApp, ownerId: string, opts: { webhookUrl?: string | null; status?: JobStatus } = {}) {
  const now = new Date();
  const job = {
    id: newId('job'),
    videoId: newId('vid'),
    ownerId,
    status: opts.status ?? 'COMPLETED',
    stage: null,
    progress: 1,
    attempt: 1,
    maxAttempts: 4,
    options: { model: 'FAST', outputFormat: 'MP4', background: null },
    pipeline: 'default',
    stageOptions: {},
    requestId: null,
    webhookUrl: opts.webhookUrl ?? null,
    timeoutSeconds: 3600,
    deadlineAt: null,
    costCredits: 1,
    queueJobId: null,
    workerLock: null,
    idempotencyKey: null,
    error: null,
    lastSequence: 5,
    createdAt: now,
    startedAt: now,
    finishedAt: now,
    updatedAt: now,
  } satisfies JobRow;
  const rows = await app.services.database.db.transaction((tx) => enqueueJobWebhooks(tx, app.services.boss, job, { at: now }));
  return { job, deliveries: rows, at: now };
}

/** The stored row of a delivery, by its id in either form (whd_… as the API answers, or the UUID). */
export async function deliveryRow(app: TestApp, id: string) {
  const [row] = await app.services.database.db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, storedDeliveryId(id) ?? id));
  return row;
}

export async function waitForDelivery(app: TestApp, id: string, statuses = ['DELIVERED', 'FAILED'], timeoutMs = 30_000) {
  return waitFor(
    `delivery ${id} to be ${statuses.join('/')}`,
    async () => {
      const row = await deliveryRow(app, id);
      return row && statuses.includes(row.status) ? row : null;
    },
    timeoutMs,
    50,
  );
}

export async function attemptLog(app: TestApp, deliveryId: string) {
  const rows = await app.services.database.db
    .select()
    .from(webhookDeliveryAttempts)
    .where(eq(webhookDeliveryAttempts.deliveryId, storedDeliveryId(deliveryId) ?? deliveryId));
  return rows.sort((a, b) => a.attempt - b.attempt);
}

/** What a receiver does: verify with the official Standard Webhooks library (throws if invalid). */
export function verified(secret: string, req: Received): unknown {
  return new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
}

export function signatureValid(secret: string, req: Received): boolean {
  try {
    verified(secret, req);
    return true;
  } catch {
    return false;
  }
}

export async function viewerSecret(app: TestApp, user: TestUser): Promise<string> {
  const res = await gql(app.url, user.key, '{ viewer { webhookSecret } }');
  return res.body.data.viewer.webhookSecret;
}

export const CREATE_ENDPOINT = `mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) {
    __typename
    ... on CreateWebhookEndpointSuccess { secret endpoint { id url events enabled description circuit { state consecutiveFailures } } }
    ... on Error { code message detail }
    ... on InvalidInputError { fieldErrors { path message } }
  }
}`;

export async function createEndpoint(app: TestApp, user: TestUser, url: string, extra: Record<string, unknown> = {}) {
  const res = await gql(app.url, user.key, CREATE_ENDPOINT, { input: { url, ...extra } });
  const result = res.body.data?.createWebhookEndpoint;
  if (result?.__typename !== 'CreateWebhookEndpointSuccess') throw new Error(`createWebhookEndpoint: ${JSON.stringify(res.body)}`);
  return { id: result.endpoint.id as string, secret: result.secret as string, endpoint: result.endpoint };
}

export const DELIVERY_FIELDS = `id eventId eventType url endpointId jobId isTest redeliveryOf status attempts lastStatusCode lastError errorCode deliveredAt nextAttemptAt
  attemptsLog { number statusCode latencyMs error at }`;
