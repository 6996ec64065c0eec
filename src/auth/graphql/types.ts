// Types of the auth domain's GraphQL API.
import type { UserRow } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { connectionRef } from '../../graphql/pagination';
import { ForbiddenError, InvalidInputError } from '../../errors/app-errors';
import { ledgerOf, type LedgerEntry } from '../credits';
import { listApiKeys } from '../keys';
import { canSee } from '../permissions';

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

export const CreditLedgerEntryRef = builder.objectRef<LedgerEntry>('CreditLedgerEntry').implement({
  description: 'One movement of credits. Every change of User.credits has one.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.exposeString('kind', {
      description:
        'GRANT (given), RESERVE (a job submitted), CHARGE (it completed: the reservation kept), RELEASE (it failed, timed out or was cancelled: given back).',
    }),
    amount: t.exposeInt('amount', { description: 'The signed change of the balance (a CHARGE changes nothing: the RESERVE already took it).' }),
    balanceAfter: t.exposeInt('balanceAfter'),
    jobId: t.exposeID('jobId', { nullable: true, description: 'The job it belongs to (null for grants).' }),
    note: t.exposeString('note', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
  }),
});

const CreditLedgerConnectionRef = connectionRef('CreditLedgerConnection', CreditLedgerEntryRef);

builder.objectField(UserRef, 'creditLedger', (t) =>
  t.field({
    type: CreditLedgerConnectionRef,
    description: "Every movement of this user's credits, newest first (the user themself, or an admin).",
    args: {
      first: t.arg.int({ description: 'Page size, 1–100 (default 20).' }),
      after: t.arg.string({ description: 'pageInfo.endCursor of the previous page.' }),
    },
    errors: { types: [InvalidInputError, ForbiddenError], directResult: true, union: { name: 'CreditLedgerResult' } },
    resolve: (user, args, ctx) => {
      if (!canSee(ctx.viewer, user.id)) throw new ForbiddenError("Only the user themself or an admin may read a user's credit ledger.");
      return ledgerOf(ctx.services.database.db, user.id, args);
    },
  }),
);

type ApiKeyListing = Awaited<ReturnType<typeof listApiKeys>>[number];

const ApiKeyRef = builder.objectRef<ApiKeyListing>('ApiKey').implement({
  description: 'An API key as listed: its id and first characters, never the key itself (only its hash is stored).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'key_…: what revokeApiKey(id:) takes.' }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key (vq_…), to tell keys apart.' }),
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.lastUsedAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, description: 'Set once revoked: the key no longer authenticates.', resolve: (k) => k.revokedAt }),
  }),
});

builder.objectField(UserRef, 'apiKeys', (t) =>
  t.field({
    type: [ApiKeyRef],
    nullable: true,
    description: "This user's API keys, newest first, revoked ones included. Visible to the user themself and to admins (null for anyone else).",
    resolve: (user, _args, ctx) => (canSee(ctx.viewer, user.id) ? listApiKeys(ctx.services.database.db, user.id) : null),
  }),
);
