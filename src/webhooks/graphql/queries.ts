// Queries of the webhooks domain's GraphQL API.
import { builder } from '../../graphql/builder';
import { ForbiddenError, InvalidInputError } from '../../errors/app-errors';
import { getVisibleDelivery } from '../delivery-access';
import { getVisibleEndpoint, listEndpoints } from '../endpoints';
import { WebhookDeliveryRef, WebhookEndpointConnectionRef, WebhookEndpointRef } from './types';

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: WebhookEndpointConnectionRef,
    description: "Newest first. Users see their own endpoints; admins everyone's, or one owner's with ownerId.",
    args: {
      first: t.arg.int({ description: 'Page size, 1–100 (default 20).' }),
      after: t.arg.string({ description: 'pageInfo.endCursor of the previous page.' }),
      ownerId: t.arg.id({ description: "Only this owner's endpoints (admins; users may name only themselves)." }),
    },
    errors: { types: [InvalidInputError, ForbiddenError], directResult: true, union: { name: 'WebhookEndpointsResult' } },
    resolve: (_root, args, ctx) => listEndpoints(ctx.services.database.db, ctx.viewer, args),
  }),
);

builder.queryField('webhookEndpoint', (t) =>
  t.field({
    type: WebhookEndpointRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [InvalidInputError], directResult: true, union: { name: 'WebhookEndpointResult' } },
    resolve: (_root, { id }, ctx) => getVisibleEndpoint(ctx.services.database.db, ctx.viewer, id, ['id']),
  }),
);

builder.queryField('webhookDelivery', (t) =>
  t.field({
    type: WebhookDeliveryRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [InvalidInputError], directResult: true, union: { name: 'WebhookDeliveryResult' } },
    resolve: (_root, { id }, ctx) => getVisibleDelivery(ctx.services.database.db, ctx.viewer, id, ['id']),
  }),
);
