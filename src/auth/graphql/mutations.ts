// Mutations of the auth domain's GraphQL API.
import { eq } from 'drizzle-orm';
import { apiKeys } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { createApiKey, revokeApiKey } from '../keys';
import { canSee } from '../permissions';

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
