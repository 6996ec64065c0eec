// Queries of the auth domain's GraphQL API.
import { builder } from '../../graphql/builder';
import { findUser } from '../users';
import { UserRef } from './types';

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
