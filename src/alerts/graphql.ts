// Alerts in the API, for admins: the `alerts` query (history, newest first) and the `alerts`
// subscription (live). A non-admin gets a ForbiddenError: as the query's result, and as the
// subscription's first and only item before it completes (the same pattern as jobUpdated's
// JobNotFoundError, so a graphql-ws client handles both in its `next` callback).
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { requireAdmin } from '../auth/permissions';
import { alerts } from '../db/schema/index';
import { builder } from '../graphql/builder';
import { ERROR_CODES, type ErrorCode } from '../errors/catalog';
import { ForbiddenError, InvalidInputError } from '../errors/app-errors';
import { ErrorCodeEnum } from '../graphql/errors';
import { pageQuery, toPage } from '../db/pagination';
import { PageInfoRef } from '../graphql/pagination';
import { Follower, PullStream } from '../live/follower';
import { asResult, liveFeeds, resultTypeName, singleItemStream } from '../live/streams';
import { QUEUES } from '../queue/queues';
import { ALERT_KINDS } from './alerts';
import { alertDeliveryJobId } from './delivery';
import type { AlertRow } from '../db/schema/index';

export const AlertKindEnum = builder.enumType('AlertKind', {
  values: {
    JOB_TIMED_OUT: { description: 'A job ran past its time limit and was stopped.' },
    JOB_FAILED: { description: 'A job failed permanently, or after its automatic retries.' },
    JOB_STUCK_QUEUED: { description: 'A job has waited in QUEUED longer than QUEUED_ALERT_SECONDS.' },
    WEBHOOK_CIRCUIT_OPEN: { description: "A webhook endpoint kept failing: its circuit opened and deliveries to it are held back." },
    WEBHOOK_ENDPOINT_DISABLED: { description: 'A webhook endpoint answered 410 Gone and was disabled: it receives no more events until enabled again.' },
  },
});

interface DeliveryShape {
  state: string;
  attempts: number;
  lastError: string | null;
}

const AlertDeliveryRef = builder.objectRef<DeliveryShape>('AlertDelivery').implement({
  description: 'The POST of this alert to ADMIN_ALERT_WEBHOOK_URL.',
  fields: (t) => ({
    state: t.exposeString('state', { description: 'created, retry, active, completed (delivered) or failed (gave up).' }),
    attempts: t.exposeInt('attempts'),
    lastError: t.exposeString('lastError', { nullable: true }),
  }),
});

export const AlertRef = builder.objectRef<AlertRow>('Alert').implement({
  description: 'Something an operator should look at: what happened, its code, and the next step.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: AlertKindEnum, resolve: (a) => a.kind as (typeof ALERT_KINDS)[number] }),
    code: t.field({
      type: ErrorCodeEnum,
      description: 'The error code behind it (e.g. JOB_TIMEOUT, VIDEO_CORRUPT, WEBHOOK_DELIVERY_FAILED, SERVICE_UNAVAILABLE for a stuck queue).',
      resolve: (a) => ((ERROR_CODES as readonly string[]).includes(a.code) ? (a.code as ErrorCode) : 'INTERNAL_ERROR'),
    }),
    message: t.exposeString('message', { description: 'What happened, naming the job or endpoint.' }),
    nextStep: t.exposeString('nextStep', { description: 'What to do about it.' }),
    jobId: t.exposeID('jobId', { nullable: true }),
    endpointId: t.exposeID('endpointId', { nullable: true }),
    ownerId: t.exposeID('ownerId', { nullable: true }),
    data: t.field({ type: 'JSON', nullable: true, resolve: (a) => a.data }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
    delivery: t.field({
      type: AlertDeliveryRef,
      nullable: true,
      description: 'Null when ADMIN_ALERT_WEBHOOK_URL is not set or the delivery is not enqueued yet.',
      resolve: async (a, _args, ctx) => {
        const job = await ctx.services.boss.getJobById(QUEUES.alertDelivery, alertDeliveryJobId(a.id));
        if (!job) return null;
        const output = job.output as { message?: string } | null;
        return { state: job.state, attempts: job.retryCount + (job.state === 'created' ? 0 : 1), lastError: output?.message ?? null };
      },
    }),
  }),
});

const AlertConnectionRef = builder.objectRef<{ nodes: AlertRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>('AlertConnection').implement({
  fields: (t) => ({
    nodes: t.field({ type: [AlertRef], resolve: (c) => c.nodes }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
  }),
});

builder.queryField('alerts', (t) =>
  t.field({
    type: AlertConnectionRef,
    description: 'Operator alerts, newest first (admins only).',
    args: {
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
      kind: t.arg({ type: [AlertKindEnum], required: false }),
      jobId: t.arg.id({ required: false }),
    },
    errors: { types: [ForbiddenError, InvalidInputError], directResult: true, union: { name: 'AlertsResult' } },
    resolve: async (_root, args, ctx) => {
      requireAdmin(ctx.viewer, 'read alerts');
      const page = pageQuery(args, { createdAt: alerts.createdAt, id: alerts.id });
      const filters: (SQL | undefined)[] = [page.where];
      if (args.kind?.length) filters.push(inArray(alerts.kind, args.kind));
      if (args.jobId) filters.push(eq(alerts.jobId, args.jobId));
      const rows = await ctx.services.database.db.select().from(alerts).where(and(...filters)).orderBy(...page.orderBy).limit(page.limit);
      return toPage(rows, page.limit);
    },
  }),
);

const AlertStreamResult = builder.unionType('AlertStreamResult', {
  types: [AlertRef, ForbiddenError],
  resolveType: (value) => resultTypeName(value, 'Alert') as 'Alert',
});

/** Every alert raised from now on, as the live hub pushes them. */
class AlertFollower extends Follower<AlertRow, AlertRow> {
  start() {
    const live = liveFeeds(this.ctx);
    live.alerts.watch(this);
    if (this.watchesRevocation) live.keyRevocations.watch(this.ctx.viewer.keyId, this);
  }

  protected detach() {
    const live = liveFeeds(this.ctx);
    live.alerts.unwatch(this);
    if (this.watchesRevocation) live.keyRevocations.unwatch(this.ctx.viewer.keyId, this);
  }

  push(row: AlertRow) {
    this.emit(row);
  }
}

builder.subscriptionField('alerts', (t) =>
  t.field({
    type: AlertStreamResult,
    description: 'Operator alerts as they are raised (admins only). A non-admin gets one ForbiddenError, then the stream completes.',
    subscribe: (_root, _args, ctx) =>
      (ctx.viewer.isAdmin
        ? new PullStream<AlertRow>((consumer) => new AlertFollower(ctx, consumer))
        : singleItemStream(ctx, asResult(new ForbiddenError('Only an admin may subscribe to alerts.'), ForbiddenError))) as AsyncIterable<AlertRow>,
    resolve: (value) => value,
  }),
);
