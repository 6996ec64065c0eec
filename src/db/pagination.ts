// Cursor pagination shared by every list (videos, jobs, webhooks, alerts): newest first, stable under
// inserts. The GraphQL PageInfo type is in graphql/pagination.ts.
// A cursor is the (createdAt, id) of the last row seen, opaque to clients.
import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { InvalidInputError } from '../errors/app-errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageInfoShape {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** One page of a list: its rows, and how to ask for the next. */
export interface Page<T> {
  nodes: T[];
  pageInfo: PageInfoShape;
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  return id && !Number.isNaN(createdAt.getTime()) ? { createdAt, id } : null;
}

/** Validates first/after and returns the WHERE part and limit for a newest-first page. */
export function pageQuery(
  args: { first?: number | null; after?: string | null },
  columns: { createdAt: PgColumn; id: PgColumn },
): { where: SQL | undefined; orderBy: SQL[]; limit: number } {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new InvalidInputError([{ path: ['first'], message: `must be between 1 and ${MAX_PAGE_SIZE}` }]);
  }
  let where: SQL | undefined;
  if (args.after) {
    const cursor = decodeCursor(args.after);
    if (!cursor) throw new InvalidInputError([{ path: ['after'], message: 'is not a cursor returned by this API' }]);
    where = or(lt(columns.createdAt, cursor.createdAt), and(eq(columns.createdAt, cursor.createdAt), lt(columns.id, cursor.id)));
  }
  return { where, orderBy: [desc(columns.createdAt), desc(columns.id)], limit: first + 1 };
}

/** Turns the rows of a page query (one extra row fetched) into nodes and pageInfo. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const hasNextPage = rows.length >= limit;
  const nodes = hasNextPage ? rows.slice(0, limit - 1) : rows;
  const last = nodes.at(-1);
  return { nodes, pageInfo: { hasNextPage, endCursor: last ? encodeCursor(last) : null } };
}
