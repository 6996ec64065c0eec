// Lists are paged newest first by (createdAt, id), and a cursor carries the createdAt of the page's last
// row. JavaScript's Date holds milliseconds: the columns lists are paged by hold milliseconds too
// (timestamp(3)), so a cursor is exact. With microseconds stored, rows created in the same millisecond as
// a page's last row (a burst, or one transaction: the same now()) were skipped by the next page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert } from '../../src/alerts/alerts';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';

let app: TestApp;
let admin: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.createUser({ name: 'ops', admin: true });
});
afterAll(async () => {
  await app?.close();
});

const PAGE = `query ($after: String) { alerts(first: 2, after: $after) {
  ... on AlertConnection { nodes { id } pageInfo { hasNextPage endCursor } } } }`;

describe('paging a list', () => {
  it('returns every row once, those created in one transaction or in the same millisecond included', async () => {
    const alert = (message: string) => ({ kind: 'JOB_FAILED' as const, code: 'JOB_FAILED', message, nextStep: 'none' });
    // One transaction: the same now() for all five.
    const together = await app.services.database.db.transaction(async (tx) => {
      const rows = [];
      for (let i = 0; i < 5; i++) rows.push(await raiseAlert(tx, alert(`together ${i}`)));
      return rows;
    });
    // A burst: separate statements, most within one millisecond of each other.
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await raiseAlert(app.services.database.db, alert(`burst ${i}`)));

    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res = await gql(app.url, admin.key, PAGE, { after });
      const page: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } = res.body.data.alerts;
      seen.push(...page.nodes.map((n) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const row of [...together, ...burst]) expect(seen).toContain(row.id);
  });

  it('is by columns that hold milliseconds, in every paged table', async () => {
    const columns = await app.services.database.sql<{ table_name: string; datetime_precision: number }[]>`
      select table_name, datetime_precision from information_schema.columns
      where table_schema = 'public' and column_name = 'created_at'
        and table_name in ('jobs', 'users', 'credit_ledger', 'videos', 'webhook_endpoints', 'webhook_deliveries', 'alerts')
      order by table_name`;
    expect(columns.map((c) => [c.table_name, c.datetime_precision])).toEqual(
      ['alerts', 'credit_ledger', 'jobs', 'users', 'videos', 'webhook_deliveries', 'webhook_endpoints'].map((t) => [t, 3]),
    );
  });
});
