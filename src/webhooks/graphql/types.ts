// Types of the webhooks domain's GraphQL API.
import { publicDeliveryId } from '../delivery-id';
import { eq } from 'drizzle-orm';
import { webhookEndpoints, type AttemptRow, type DeliveryRow, type EndpointRow } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { InvalidInputError } from '../../errors/app-errors';
import { ErrorCodeEnum } from '../../graphql/errors';
import { connectionRef } from '../../graphql/pagination';
import { canSee } from '../../auth/permissions';
import { circuitOf } from '../circuit-store';
import type { CircuitState } from '../circuit';
import { attemptsOf, deliveriesOfEndpoint } from '../delivery-access';
import { TEST_EVENT_TYPE } from '../events';

export type { DeliveryRow };

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: ['PENDING', 'DELIVERED', 'FAILED'] as const });

type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export const WebhookDeliveryAttemptRef = builder.objectRef<AttemptRow>('WebhookDeliveryAttempt').implement({
  description: 'One HTTP attempt of a delivery.',
  fields: (t) => ({
    number: t.exposeInt('attempt', { description: '1 for the first attempt, 2 for the first retry, …' }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'Null when no response came (timeout, refused, connection error).' }),
    latencyMs: t.exposeInt('latencyMs', { description: 'From sending the request to the end of the response (or the failure).' }),
    error: t.exposeString('error', { nullable: true, description: 'Why the attempt failed; null on success.' }),
    responseSnippet: t.exposeString('responseSnippet', { nullable: true, description: "The first 4 KB of the receiver's answer." }),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
  }),
});

export const WebhookDeliveryRef = builder.objectRef<DeliveryRow>('WebhookDelivery').implement({
  description: 'One event sent to one target, with its retries.',
  fields: (t) => ({
    id: t.id({ description: 'whd_…', resolve: (d) => publicDeliveryId(d.id) }),
    eventId: t.exposeString('eventId', { description: 'Sent as the webhook-id header on every attempt (and every redelivery).' }),
    eventType: t.exposeString('eventType', { description: 'job.completed, job.failed, job.timed_out, job.cancelled or webhook.test.' }),
    url: t.exposeString('url', { description: 'Where it was (or will be) sent.' }),
    endpointId: t.exposeID('endpointId', { nullable: true, description: "Null for the job's own webhookUrl." }),
    jobId: t.exposeID('jobId', { nullable: true, description: 'The job whose terminal event this is; null for a test event.' }),
    isTest: t.boolean({ description: 'A webhook.test event from sendTestWebhook (one attempt, no retries).', resolve: (d) => d.eventType === TEST_EVENT_TYPE }),
    redeliveryOf: t.id({
      nullable: true,
      description: 'For a redelivery: the delivery it repeats.',
      resolve: (d) => (d.redeliveryOf ? publicDeliveryId(d.redeliveryOf) : null),
    }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status as DeliveryStatus }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made so far.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    errorCode: t.field({
      type: ErrorCodeEnum,
      nullable: true,
      description: 'WEBHOOK_DELIVERY_FAILED once vidq has given up.',
      resolve: (d) => (d.errorCode as 'WEBHOOK_DELIVERY_FAILED' | null) ?? null,
    }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due; null while one is in flight and once final.',
      resolve: (d) => d.nextAttemptAt,
    }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.deliveredAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    body: t.exposeString('body', { description: 'The exact JSON body sent (and signed) on every attempt.' }),
    attemptsLog: t.field({
      type: [WebhookDeliveryAttemptRef],
      description: 'Every attempt, oldest first.',
      resolve: (d, _a, ctx) => attemptsOf(ctx.services.database.db, d.id),
    }),
  }),
});

const WebhookCircuitStateEnum = builder.enumType('WebhookCircuitState', {
  values: {
    CLOSED: { description: 'Deliveries go out normally.' },
    OPEN: { description: 'Too many failures in a row: deliveries wait until nextProbeAt.' },
    HALF_OPEN: { description: 'One probe delivery is in flight; its success closes the circuit.' },
  },
});

const WebhookCircuitRef = builder.objectRef<CircuitState>('WebhookCircuit').implement({
  description: "The endpoint's circuit breaker, shared by every worker.",
  fields: (t) => ({
    state: t.field({ type: WebhookCircuitStateEnum, resolve: (c) => c.state }),
    consecutiveFailures: t.exposeInt('consecutiveFailures', { description: 'Failed attempts in a row (reset by a success).' }),
    openedAt: t.field({ type: 'DateTime', nullable: true, resolve: (c) => c.openedAt }),
    nextProbeAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next probe may go (OPEN), or when an unanswered probe is given up (HALF_OPEN).',
      resolve: (c) => c.nextProbeAt,
    }),
  }),
});

export const WebhookDeliveryConnectionRef = connectionRef('WebhookDeliveryConnection', WebhookDeliveryRef);

export const WebhookEndpointRef = builder.objectRef<EndpointRow>('WebhookEndpoint').implement({
  description: 'A URL that receives the account’s job events, signed with its own secret (shown once, at creation or rotation).',
  fields: (t) => ({
    id: t.exposeID('id'),
    ownerId: t.exposeID('ownerId'),
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    events: t.exposeStringList('events', { description: 'Event types it receives.' }),
    enabled: t.exposeBoolean('enabled'),
    disabledReason: t.exposeString('disabledReason', { nullable: true, description: 'Why it is disabled: by its owner, or the receiver answered 410 Gone.' }),
    circuit: t.field({ type: WebhookCircuitRef, resolve: (e) => circuitOf(e) }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation, the previous secret signs beside the new one until then.',
      resolve: (e) => (e.previousSecretExpiresAt && e.previousSecretExpiresAt.getTime() > Date.now() ? e.previousSecretExpiresAt : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (e) => e.updatedAt }),
    deliveries: t.field({
      type: WebhookDeliveryConnectionRef,
      description: 'Deliveries to this endpoint, newest first.',
      args: {
        first: t.arg.int({ description: 'Page size, 1–100 (default 20).' }),
        after: t.arg.string({ description: 'pageInfo.endCursor of the previous page.' }),
        status: t.arg({ type: [WebhookDeliveryStatusEnum], description: 'Only deliveries in these states.' }),
      },
      errors: { types: [InvalidInputError], directResult: true, union: { name: 'WebhookDeliveriesResult' } },
      resolve: (e, args, ctx) => deliveriesOfEndpoint(ctx.services.database.db, e.id, args),
    }),
  }),
});

builder.objectField(WebhookDeliveryRef, 'endpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    nullable: true,
    description: "The endpoint it goes to; null for a job's own webhookUrl or a deleted endpoint.",
    resolve: async (d, _a, ctx) => {
      if (!d.endpointId) return null;
      const [e] = await ctx.services.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, d.endpointId));
      return e && canSee(ctx.viewer, e.ownerId) ? e : null;
    },
  }),
);

export const WebhookEndpointConnectionRef = connectionRef('WebhookEndpointConnection', WebhookEndpointRef);
