// Mutations of the webhooks domain's GraphQL API.
import type { EndpointRow } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { ForbiddenError, InvalidInputError } from '../../errors/app-errors';
import { redeliver, sendTest } from '../delivery-access';
import { createEndpoint, deleteEndpoint, rotateEndpointSecret, rotateUserSecret, setEndpointEnabled, updateEndpoint } from '../endpoints';
import { WebhookDeliveryRef, WebhookEndpointRef } from './types';

interface EndpointWithSecret {
  endpoint: EndpointRow;
  secret: string;
}

const CreateWebhookEndpointSuccess = builder.objectRef<EndpointWithSecret>('CreateWebhookEndpointSuccess').implement({
  description: 'The new endpoint and its signing secret. The secret is shown this once: store it now.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (r) => r.endpoint }),
    secret: t.exposeString('secret', { description: 'whsec_…: verify the webhook-signature header with it (Standard Webhooks).' }),
  }),
});

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'https:// (or http://) URL on a public address.' }),
    events: t.stringList({ description: 'Event types to receive: job.completed, job.failed, job.timed_out, job.cancelled. Default: all four.' }),
    description: t.string({ description: 'A note for yourself, up to 500 characters.' }),
    ownerId: t.id({ description: 'Admins: create it for this user.' }),
  }),
});

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: CreateWebhookEndpointSuccess,
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
    errors: { types: [InvalidInputError, ForbiddenError], directResult: true, union: { name: 'CreateWebhookEndpointResult' } },
    resolve: (_root, { input }, ctx) => createEndpoint(ctx.services.database.db, ctx.services.config, ctx.viewer, input),
  }),
);

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string({ description: 'A new URL; pending deliveries follow it.' }),
    events: t.stringList({ description: 'Replaces the list of event types.' }),
    description: t.string({ description: 'Empty string clears it.' }),
  }),
});

const endpointResult = (name: string) => ({
  types: [InvalidInputError],
  union: { name: `${name}Result` },
  result: { name: `${name}Success` },
  dataField: { name: 'endpoint' },
});

builder.mutationField('updateWebhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    description: 'Changes the URL, the event types or the description; fields left out stay as they are.',
    args: { input: t.arg({ type: UpdateWebhookEndpointInput, required: true }) },
    errors: endpointResult('UpdateWebhookEndpoint'),
    resolve: (_root, { input }, ctx) => updateEndpoint(ctx.services.database.db, ctx.services.config, ctx.viewer, input),
  }),
);

builder.mutationField('disableWebhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    description: 'Stops sending to the endpoint: new events skip it, and waiting deliveries end as FAILED.',
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ description: 'Shown as disabledReason.' }) },
    errors: endpointResult('DisableWebhookEndpoint'),
    resolve: (_root, args, ctx) => setEndpointEnabled(ctx.services.database.db, ctx.viewer, args.id, false, args.reason),
  }),
);

builder.mutationField('enableWebhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    description: 'Sends to the endpoint again (also after a 410 Gone), with its circuit closed.',
    args: { id: t.arg.id({ required: true }) },
    errors: endpointResult('EnableWebhookEndpoint'),
    resolve: (_root, args, ctx) => setEndpointEnabled(ctx.services.database.db, ctx.viewer, args.id, true),
  }),
);

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.field({
    type: 'ID',
    description: 'Deletes the endpoint. Deliveries still waiting for it end as FAILED; sent ones stay in the jobs’ logs.',
    args: { id: t.arg.id({ required: true }) },
    errors: {
      types: [InvalidInputError],
      union: { name: 'DeleteWebhookEndpointResult' },
      result: { name: 'DeleteWebhookEndpointSuccess' },
      dataField: { name: 'endpointId' },
    },
    resolve: (_root, { id }, ctx) => deleteEndpoint(ctx.services.database.db, ctx.viewer, id),
  }),
);

const RotateWebhookSecretSuccess = builder.objectRef<EndpointWithSecret>('RotateWebhookSecretSuccess').implement({
  description: 'The new secret, shown this once. The previous one keeps signing beside it for 24 hours (endpoint.previousSecretExpiresAt).',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpointRef, resolve: (r) => r.endpoint }),
    secret: t.exposeString('secret'),
  }),
});

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: RotateWebhookSecretSuccess,
    args: { endpointId: t.arg.id({ required: true }) },
    errors: { types: [InvalidInputError], directResult: true, union: { name: 'RotateWebhookSecretResult' } },
    resolve: (_root, { endpointId }, ctx) => rotateEndpointSecret(ctx.services.database.db, ctx.viewer, endpointId),
  }),
);

const RotatedViewerSecretRef = builder.objectRef<{ secret: string; previousSecretExpiresAt: Date }>('RotatedViewerWebhookSecret').implement({
  description: 'The new viewer.webhookSecret. The previous one keeps signing beside it until previousSecretExpiresAt (24 hours).',
  fields: (t) => ({
    secret: t.exposeString('secret'),
    previousSecretExpiresAt: t.field({ type: 'DateTime', resolve: (r) => r.previousSecretExpiresAt }),
  }),
});

builder.mutationField('rotateViewerWebhookSecret', (t) =>
  t.field({
    type: RotatedViewerSecretRef,
    description: "Rotates the secret that signs deliveries to jobs' own webhookUrl.",
    resolve: (_root, _args, ctx) => rotateUserSecret(ctx.services.database.db, ctx.viewer.id),
  }),
);

builder.mutationField('redeliverWebhook', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    description:
      'Sends a DELIVERED or FAILED delivery’s event again: a new delivery (own attempts and retries) with the same event id, ' +
      'to the endpoint’s current URL or the job’s webhookUrl. The body is the event’s own, except that a job.completed event’s download URLs are signed again (they last 24 hours).',
    args: { deliveryId: t.arg.id({ required: true }) },
    errors: {
      types: [InvalidInputError],
      union: { name: 'RedeliverWebhookResult' },
      result: { name: 'RedeliverWebhookSuccess' },
      dataField: { name: 'delivery' },
    },
    resolve: (_root, { deliveryId }, ctx) => redeliver(ctx.services, ctx.viewer, deliveryId),
  }),
);

builder.mutationField('sendTestWebhook', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    description:
      'Sends a signed webhook.test event to the endpoint now (one attempt, even when it is disabled or its circuit is open). Follow it with webhookDelivery(id).',
    args: { endpointId: t.arg.id({ required: true }) },
    errors: {
      types: [InvalidInputError],
      union: { name: 'SendTestWebhookResult' },
      result: { name: 'SendTestWebhookSuccess' },
      dataField: { name: 'delivery' },
    },
    resolve: (_root, { endpointId }, ctx) => sendTest(ctx.services, ctx.viewer, endpointId),
  }),
);
