// GraphQL types of the webhooks domain.
import { webhookDeliveries } from '../db/schema/index';
import { builder } from '../graphql/builder';
import { ErrorCodeEnum } from '../graphql/errors';

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: ['PENDING', 'DELIVERED', 'FAILED'] as const });

export const WebhookDeliveryRef = builder.objectRef<DeliveryRow>('WebhookDelivery').implement({
  description: 'One event sent to one target, with its retries.',
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeString('eventId', { description: 'Sent as the webhook-id header on every attempt.' }),
    eventType: t.exposeString('eventType'),
    url: t.exposeString('url'),
    endpointId: t.exposeID('endpointId', { nullable: true, description: "Null for the job's own webhookUrl." }),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status as 'PENDING' }),
    attempts: t.exposeInt('attempts'),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    errorCode: t.field({
      type: ErrorCodeEnum,
      nullable: true,
      description: 'WEBHOOK_DELIVERY_FAILED once vidq has given up.',
      resolve: (d) => (d.errorCode as 'WEBHOOK_DELIVERY_FAILED' | null) ?? null,
    }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.nextAttemptAt }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.deliveredAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
  }),
});
