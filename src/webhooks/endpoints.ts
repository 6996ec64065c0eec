// Webhook endpoints of an account: create, change, enable/disable, delete, rotate secrets. Another
// user's endpoint answers exactly as an unknown id does.
import { and, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client';
import { newId } from '../db/ids';
import { users, webhookDeliveries, webhookEndpoints } from '../db/schema/index';
import type { Viewer } from '../auth/viewer';
import { type FieldError, InvalidInputError } from '../errors/app-errors';
import { pageQuery, toPage } from '../db/pagination';
import { actingOwnerId, canSee } from '../auth/permissions';
import type { Config } from '../config';
import { WEBHOOK_DELIVERY_FAILED } from './delivery-run';
import { WEBHOOK_EVENT_TYPES } from './events';
import { generateWebhookSecret } from './signing';
import { checkWebhookUrl } from './url-guard';
import type { EndpointRow } from '../db/schema/index';

export const MAX_ENDPOINTS_PER_USER = 20;
export const MAX_DESCRIPTION_LENGTH = 500;
/** During a rotation the previous secret keeps signing this long, beside the new one. */
export const SECRET_OVERLAP_HOURS = 24;

/** Unknown and someone else's endpoints answer the same, naming the argument that was wrong. */
export function endpointNotFound(path: string[], id: string): InvalidInputError {
  return new InvalidInputError([{ path, message: `No webhook endpoint with id '${id}' exists.` }]);
}

export async function getVisibleEndpoint(db: DbOrTx, viewer: Viewer, id: string, path: string[]): Promise<EndpointRow> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  if (!row || !canSee(viewer, row.ownerId)) throw endpointNotFound(path, id);
  return row;
}

async function checkUrl(config: Config, url: string, path: string[], errors: FieldError[]) {
  const check = await checkWebhookUrl(url, { allowPrivate: config.webhookAllowPrivateUrls });
  if (!check.ok) errors.push({ path, message: check.reason });
}

function checkEvents(events: readonly string[], path: string[], errors: FieldError[]): string[] {
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length) {
    errors.push({
      path,
      message: `unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => JSON.stringify(e)).join(', ')}; use ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    });
  } else if (!events.length) {
    errors.push({ path, message: `name at least one event type (${WEBHOOK_EVENT_TYPES.join(', ')}), or leave it out for all of them` });
  }
  return [...new Set(events)];
}

function checkDescription(description: string | null | undefined, path: string[], errors: FieldError[]) {
  if (description && description.length > MAX_DESCRIPTION_LENGTH) errors.push({ path, message: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` });
}

export interface CreateEndpointInput {
  url: string;
  events?: readonly string[] | null;
  description?: string | null;
  ownerId?: string | null;
}

export async function createEndpoint(db: Db, config: Config, viewer: Viewer, input: CreateEndpointInput) {
  const ownerId = actingOwnerId(viewer, input.ownerId);
  const errors: FieldError[] = [];
  await checkUrl(config, input.url, ['input', 'url'], errors);
  const events = checkEvents(input.events ?? WEBHOOK_EVENT_TYPES, ['input', 'events'], errors);
  checkDescription(input.description, ['input', 'description'], errors);
  if (errors.length) throw new InvalidInputError(errors);
  return db.transaction(async (tx) => {
    // Serializes concurrent creations by one owner, so the limit holds.
    const [owner] = await tx.select({ id: users.id }).from(users).where(eq(users.id, ownerId)).for('update');
    if (!owner) throw new InvalidInputError([{ path: ['input', 'ownerId'], message: `No user with id '${ownerId}' exists.` }]);
    const [{ count }] = await tx
      .select({ count: sql<number>`count(*)::int` })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.ownerId, ownerId));
    if (count >= MAX_ENDPOINTS_PER_USER) {
      throw new InvalidInputError([{ path: ['input'], message: `an account may have at most ${MAX_ENDPOINTS_PER_USER} webhook endpoints; delete one first` }]);
    }
    const secret = generateWebhookSecret();
    const [endpoint] = await tx
      .insert(webhookEndpoints)
      .values({ id: newId('whe'), ownerId, url: input.url, events, description: input.description ?? null, secret })
      .returning();
    return { endpoint, secret };
  });
}

export interface UpdateEndpointInput {
  id: string;
  url?: string | null;
  events?: readonly string[] | null;
  description?: string | null;
}

export async function updateEndpoint(db: Db, config: Config, viewer: Viewer, input: UpdateEndpointInput) {
  const endpoint = await getVisibleEndpoint(db, viewer, input.id, ['input', 'id']);
  const errors: FieldError[] = [];
  const changes: Partial<EndpointRow> = {};
  if (input.url != null) {
    await checkUrl(config, input.url, ['input', 'url'], errors);
    changes.url = input.url;
  }
  if (input.events != null) changes.events = checkEvents(input.events, ['input', 'events'], errors);
  if (input.description !== undefined) {
    checkDescription(input.description, ['input', 'description'], errors);
    changes.description = input.description || null;
  }
  if (errors.length) throw new InvalidInputError(errors);
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  return row;
}

/** Enabling also closes the circuit: the owner says the endpoint works again. */
export async function setEndpointEnabled(db: Db, viewer: Viewer, id: string, enabled: boolean, reason?: string | null) {
  const endpoint = await getVisibleEndpoint(db, viewer, id, ['id']);
  const [row] = await db
    .update(webhookEndpoints)
    .set(
      enabled
        ? {
            enabled: true,
            disabledReason: null,
            circuitState: 'CLOSED',
            consecutiveFailures: 0,
            circuitOpenedAt: null,
            nextProbeAt: null,
            updatedAt: sql`now()`,
          }
        : { enabled: false, disabledReason: reason?.trim() || 'Disabled by its owner.', updatedAt: sql`now()` },
    )
    .where(eq(webhookEndpoints.id, endpoint.id))
    .returning();
  return row;
}

/** Deletes an endpoint; deliveries still waiting for it end as FAILED (their log stays). */
export async function deleteEndpoint(db: Db, viewer: Viewer, id: string): Promise<string> {
  const endpoint = await getVisibleEndpoint(db, viewer, id, ['id']);
  await db.transaction(async (tx) => {
    await tx
      .update(webhookDeliveries)
      .set({
        status: 'FAILED',
        errorCode: WEBHOOK_DELIVERY_FAILED,
        lastError: 'The endpoint was deleted before this delivery was sent.',
        nextAttemptAt: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(webhookDeliveries.endpointId, endpoint.id), eq(webhookDeliveries.status, 'PENDING')));
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id));
  });
  return endpoint.id;
}

const overlapEnd = () => new Date(Date.now() + SECRET_OVERLAP_HOURS * 3600 * 1000);

// Rotations, of an endpoint's secret and of a user's, lock the row (SELECT … FOR UPDATE) for the whole
// read-decide-write: concurrent rotations take turns, so each secret handed back becomes the current one
// and then, at the next rotation, the previous one. Without the lock, two rotations both read the same
// current secret and one of the two new secrets never signed anything. Two slots hold secrets: a
// rotation within 24 hours of the last one ends the overlap of the secret before it.

/** A new signing secret; the old one keeps signing beside it for 24 hours. */
export async function rotateEndpointSecret(db: Db, viewer: Viewer, id: string) {
  return db.transaction(async (tx) => {
    const [endpoint] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).for('update');
    if (!endpoint || !canSee(viewer, endpoint.ownerId)) throw endpointNotFound(['endpointId'], id);
    const secret = generateWebhookSecret();
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ secret, previousSecret: endpoint.secret, previousSecretExpiresAt: overlapEnd(), updatedAt: sql`now()` })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning();
    return { endpoint: row, secret };
  });
}

/** The same for the viewer's own secret, which signs deliveries to jobs' webhookUrl. */
export async function rotateUserSecret(db: Db, userId: string) {
  return db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
    if (!user) throw new Error('authenticated user vanished');
    const secret = generateWebhookSecret();
    const previousSecretExpiresAt = overlapEnd();
    await tx
      .update(users)
      .set({ webhookSecret: secret, previousWebhookSecret: user.webhookSecret, previousWebhookSecretExpiresAt: previousSecretExpiresAt })
      .where(eq(users.id, userId));
    return { secret, previousSecretExpiresAt };
  });
}

export async function listEndpoints(db: Db, viewer: Viewer, args: { first?: number | null; after?: string | null; ownerId?: string | null }) {
  const page = pageQuery(args, { createdAt: webhookEndpoints.createdAt, id: webhookEndpoints.id });
  // Users see their own; admins everyone's, or one owner's.
  const owner = args.ownerId ? actingOwnerId(viewer, args.ownerId) : viewer.isAdmin ? null : viewer.id;
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(and(owner ? eq(webhookEndpoints.ownerId, owner) : undefined, page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
  return toPage(rows, page.limit);
}
