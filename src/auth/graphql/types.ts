// Types of the auth domain's GraphQL API.
import type { UserRow } from '../../db/schema/index';
import { builder } from '../../graphql/builder';

export const UserRef = builder.objectRef<UserRow>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    isAdmin: t.exposeBoolean('isAdmin'),
    credits: t.exposeInt('credits', { description: 'Credits available now (reservations for running jobs already taken off).' }),
    webhookSecret: t.string({
      nullable: true,
      description: "Signs webhooks sent to a job's own webhookUrl. Visible to the user themself only.",
      resolve: (user, _args, ctx) => (ctx.viewer.id === user.id ? user.webhookSecret : null),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.createdAt }),
  }),
});
