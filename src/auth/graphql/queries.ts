// Queries of the auth domain's GraphQL API.
import { builder } from '../../graphql/builder';
import { ForbiddenError, InvalidInputError } from '../../errors/app-errors';
import { connectionRef } from '../../graphql/pagination';
import { requireAdmin } from '../permissions';
import { findUser, listUsers } from '../users';
import { UserRef } from './types';

const UserConnectionRef = connectionRef('UserConnection', UserRef);

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

builder.queryField('users', (t) =>
  t.field({
    type: UserConnectionRef,
    description: 'Admins: every user, newest first.',
    args: {
      first: t.arg.int({ description: 'Page size, 1–100 (default 20).' }),
      after: t.arg.string({ description: 'pageInfo.endCursor of the previous page.' }),
    },
    errors: { types: [InvalidInputError, ForbiddenError], directResult: true, union: { name: 'UsersResult' } },
    resolve: (_root, args, ctx) => {
      requireAdmin(ctx.viewer, 'list users');
      return listUsers(ctx.services.database.db, args);
    },
  }),
);
