// The GraphQL side of cursor pagination (the SQL side is db/pagination.ts).
import type { PageInfoShape } from '../db/pagination';
import { builder } from './builder';

export const PageInfoRef = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true, description: 'Pass as `after` to get the next page.' }),
  }),
});
