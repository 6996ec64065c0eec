// The GraphQL side of cursor pagination (the SQL side is db/pagination.ts).
import type { ObjectRef } from '@pothos/core';
import type { Page, PageInfoShape } from '../db/pagination';
import type { Types } from './builder';
import { builder } from './builder';

export const PageInfoRef = builder.objectRef<PageInfoShape>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true, description: 'Pass as `after` to get the next page.' }),
  }),
});

/** The `<Name>Connection` type of a list: its nodes and pageInfo. */
export function connectionRef<T>(name: string, nodeRef: ObjectRef<Types, T>) {
  return builder.objectRef<Page<T>>(name).implement({
    fields: (t) => ({
      nodes: t.field({ type: [nodeRef], resolve: (c) => c.nodes }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    }),
  });
}
