// The User type and the viewer query.
import { eq, type InferSelectModel } from 'drizzle-orm';
import { apiKeys, type users } from '../db/schema/index';
import { builder } from '../graphql/builder';
import { createApiKey, revokeApiKey } from './keys';
import { canSee } from './permissions';
import { findUser } from './users';

export type UserRow = InferSelectModel<typeof users>;

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

builder.queryField('viewer', (t) =>
  t.field({
    type: UserRef,
    description: 'The user the API key belongs to.',
    resolve: async (_root, _args, ctx) => {
      // Authentication read the user in the same request: no second query on the hot path.
      const user = ctx.viewer.user ?? (await findUser(ctx.services.database.db, ctx.viewer.id));
      if (!user) throw new Error('authenticated user vanished');
      return user;
    },
  }),
);

interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
}
const CreatedApiKeyRef = builder.objectRef<CreatedKey>('CreatedApiKey').implement({
  description: 'A new API key. `key` is shown this once: store it now.',
  fields: (t) => ({ id: t.exposeID('id'), key: t.exposeString('key'), prefix: t.exposeString('prefix') }),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKeyRef,
    description: 'Creates another API key for the viewer (to rotate keys without downtime).',
    args: { name: t.arg.string({ required: false }) },
    resolve: (_root, args, ctx) => createApiKey(ctx.services.database.db, ctx.viewer.id, args.name ?? undefined),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.boolean({
    description: "Revokes one of the viewer's keys at once (admins: any key). True when a key was revoked.",
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const [key] = await ctx.services.database.db.select({ userId: apiKeys.userId }).from(apiKeys).where(eq(apiKeys.id, args.id));
      if (!key || !canSee(ctx.viewer, key.userId)) return false;
      return revokeApiKey(ctx.services.database.db, args.id);
    },
  }),
);
