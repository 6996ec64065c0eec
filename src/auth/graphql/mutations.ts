// Mutations of the auth domain's GraphQL API.
import { eq } from 'drizzle-orm';
import { apiKeys } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { createApiKey, revokeApiKey } from '../keys';
import { actingOwnerId, canSee, requireAdmin } from '../permissions';
import { grantCredits, MAX_GRANT } from '../credits';
import { createUser, findUser } from '../users';
import { ForbiddenError, InvalidInputError } from '../../errors/app-errors';
import { CreditLedgerEntryRef, UserRef } from './types';

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
    description: 'Creates another API key for the viewer (to rotate keys without downtime), or (admins) for the user named by userId.',
    args: {
      name: t.arg.string({ required: false }),
      userId: t.arg.id({ required: false, description: 'Admins: the user the key is for (default: the viewer).' }),
    },
    errors: {
      types: [InvalidInputError, ForbiddenError],
      union: { name: 'CreateApiKeyResult' },
      result: { name: 'CreateApiKeySuccess' },
      dataField: { name: 'apiKey' },
    },
    resolve: async (_root, args, ctx) => {
      const { db } = ctx.services.database;
      const userId = actingOwnerId(ctx.viewer, args.userId);
      if (!(await findUser(db, userId))) throw new InvalidInputError([{ path: ['userId'], message: `no user '${userId}'` }]);
      return createApiKey(db, userId, args.name ?? undefined);
    },
  }),
);

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    isAdmin: t.boolean({ required: false, defaultValue: false }),
    credits: t.int({ required: false, description: 'Starting credits (default DEFAULT_USER_CREDITS).' }),
  }),
});

builder.mutationField('createUser', (t) =>
  t.field({
    type: UserRef,
    description: 'Admins: creates a user (give them a key with createApiKey(userId:)).',
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    errors: {
      types: [InvalidInputError, ForbiddenError],
      union: { name: 'CreateUserResult' },
      result: { name: 'CreateUserSuccess' },
      dataField: { name: 'user' },
    },
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx.viewer, 'create users');
      const name = input.name.trim();
      const fieldErrors = [];
      if (!name || name.length > 200) fieldErrors.push({ path: ['input', 'name'], message: 'must be 1 to 200 characters' });
      if (input.credits != null && (input.credits < 0 || input.credits > MAX_GRANT))
        fieldErrors.push({ path: ['input', 'credits'], message: `must be from 0 to ${MAX_GRANT}` });
      if (fieldErrors.length) throw new InvalidInputError(fieldErrors);
      return createUser(ctx.services.database.db, { name, isAdmin: input.isAdmin ?? false, credits: input.credits ?? ctx.services.config.defaultUserCredits });
    },
  }),
);

builder.mutationField('grantCredits', (t) =>
  t.field({
    type: CreditLedgerEntryRef,
    description: "Admins: tops up a user's credits (a GRANT ledger row naming the reason and the admin).",
    args: {
      userId: t.arg.id({ required: true }),
      amount: t.arg.int({ required: true, description: 'Credits to add, 1 to 10,000,000.' }),
      reason: t.arg.string({ required: true, description: 'Why, for the ledger (e.g. "invoice 2026-118").' }),
    },
    errors: {
      types: [InvalidInputError, ForbiddenError],
      union: { name: 'GrantCreditsResult' },
      result: { name: 'GrantCreditsSuccess' },
      dataField: { name: 'entry' },
    },
    resolve: async (_root, args, ctx) => {
      requireAdmin(ctx.viewer, 'grant credits');
      const { entry, user } = await grantCredits(ctx.services.database.db, { ...args, grantedBy: ctx.viewer.id });
      ctx.log().info({ userId: user.id, amount: args.amount, balance: user.credits }, 'credits granted');
      return entry;
    },
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
