// Reading deliveries and their attempt logs, and the two ways to send an event on demand:
// redeliverWebhook (the same event again) and sendTestWebhook (a webhook.test event).
import { storedDeliveryId } from './delivery-id';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { webhookDeliveries, webhookDeliveryAttempts } from '../db/schema/index';
import type { Viewer } from '../auth/viewer';
import { InvalidInputError } from '../errors/app-errors';
import { pageQuery, toPage } from '../db/pagination';
import { canSee } from '../auth/permissions';
import type { Services } from '../services';
import { getVisibleEndpoint } from './endpoints';
import { enqueueRedelivery, enqueueTestWebhook, isJobTarget } from './events';
import { outputFilesWithUrls } from '../downloads/urls';
import type { AttemptRow, DeliveryRow } from '../db/schema/index';

export async function getVisibleDelivery(db: Db, viewer: Viewer, id: string, path: string[]): Promise<DeliveryRow> {
  // Checked first: PostgreSQL would reject a malformed uuid with an error, not an empty result.
  const stored = storedDeliveryId(id);
  const [row] = stored ? await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, stored)) : [];
  if (!row || !canSee(viewer, row.ownerId)) {
    throw new InvalidInputError([{ path, message: `No webhook delivery with id '${id}' exists.` }]);
  }
  return row;
}

export function attemptsOf(db: Db, deliveryId: string): Promise<AttemptRow[]> {
  return db.select().from(webhookDeliveryAttempts).where(eq(webhookDeliveryAttempts.deliveryId, deliveryId)).orderBy(asc(webhookDeliveryAttempts.attempt));
}

export async function deliveriesOfEndpoint(
  db: Db,
  endpointId: string,
  args: { first?: number | null; after?: string | null; status?: readonly string[] | null },
) {
  const page = pageQuery(args, { createdAt: webhookDeliveries.createdAt, id: webhookDeliveries.id });
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.endpointId, endpointId), args.status?.length ? inArray(webhookDeliveries.status, [...args.status]) : undefined, page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
  return toPage(rows, page.limit);
}

/**
 * Sends a finished delivery's event again, as a new delivery (see enqueueRedelivery): to the
 * endpoint's current URL, or to the job's own webhookUrl. A delivery still PENDING is refused: it is
 * being delivered already.
 */
export async function redeliver(services: Services, viewer: Viewer, deliveryId: string): Promise<DeliveryRow> {
  const db = services.database.db;
  const original = await getVisibleDelivery(db, viewer, deliveryId, ['deliveryId']);
  if (original.status === 'PENDING') {
    throw new InvalidInputError([
      { path: ['deliveryId'], message: 'this delivery is still being delivered (PENDING); redeliver it once it is DELIVERED or FAILED' },
    ]);
  }
  let url = original.url;
  if (!isJobTarget(original)) {
    const gone = new InvalidInputError([
      { path: ['deliveryId'], message: 'the endpoint of this delivery was deleted; create an endpoint and use sendTestWebhook instead' },
    ]);
    if (!original.endpointId) throw gone;
    const endpoint = await getVisibleEndpoint(db, viewer, original.endpointId, ['deliveryId']).catch(() => {
      throw gone;
    });
    if (!endpoint.enabled) {
      throw new InvalidInputError([
        { path: ['deliveryId'], message: `the endpoint is disabled (${endpoint.disabledReason ?? 'by its owner'}); enable it first` },
      ]);
    }
    url = endpoint.url;
  }
  const body = await withFreshDownloadUrls(services, original);
  return db.transaction((tx) => enqueueRedelivery(tx, services.boss, original, url, body));
}

/**
 * The body a redelivery sends: the original, except that a job.completed event's file URLs are signed
 * again. They expire 24 hours after they were signed, and a redelivery is often asked for days later
 * (the receiver was down, the event was lost on their side). Only `url` changes; a file the job no
 * longer lists (its job removed by retention) keeps its old URL, as nothing could serve it anyway.
 */
async function withFreshDownloadUrls(services: Services, original: DeliveryRow): Promise<string> {
  if (original.eventType !== 'job.completed' || !original.jobId) return original.body;
  const current = await outputFilesWithUrls(services, original.jobId);
  if (!current.length) return original.body;
  const fresh = new Map(current.map((file) => [`${file.stage}/${file.path}`, file.url]));
  const body = JSON.parse(original.body);
  const listed: unknown = body?.data?.job?.output?.files;
  if (!Array.isArray(listed)) return original.body;
  for (const file of listed as { stage: string; path: string; url: string }[]) {
    file.url = fresh.get(`${file.stage}/${file.path}`) ?? file.url;
  }
  return JSON.stringify(body);
}

/** One attempt of a signed webhook.test event, whatever the endpoint's circuit or enabled state. */
export async function sendTest(services: Services, viewer: Viewer, endpointId: string): Promise<DeliveryRow> {
  const db = services.database.db;
  const endpoint = await getVisibleEndpoint(db, viewer, endpointId, ['endpointId']);
  return db.transaction((tx) => enqueueTestWebhook(tx, services.boss, endpoint));
}
