// The embedded PostgreSQL when run as root with a DATA_DIR the "postgres" user cannot reach (a private
// home such as /root, or any 0700 directory): it must still start, and keep its data across restarts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT_CLUSTERS_DIR, startEmbeddedPostgres } from '../../src/db/embedded';
import { createLogger } from '../../src/logger';
import { freePort } from '../helpers/pg-urls';

const asRoot = os.userInfo().uid === 0;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('embedded PostgreSQL as root', () => {
  it.skipIf(!asRoot)('starts in a DATA_DIR under a 0700 directory, linking it to a cluster under /var/lib/vidq, and finds it again', async () => {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-private-home-')); // mkdtemp makes it 0700
    expect((await fs.stat(home)).mode & 0o777).toBe(0o700);
    const dir = path.join(home, 'data', 'postgres');
    cleanups.push(() => fs.rm(home, { recursive: true, force: true }));
    // What an earlier failed start leaves: initdb could not get in, the empty directory stayed.
    await fs.mkdir(dir, { recursive: true });
    const port = await freePort();
    const log = createLogger('silent');

    const first = await startEmbeddedPostgres({ dir, port, log });
    const real = await fs.readlink(dir);
    cleanups.push(() => fs.rm(real, { recursive: true, force: true }));
    expect(path.dirname(real)).toBe(ROOT_CLUSTERS_DIR);
    expect(first.owned).toBe(true);
    const sql = postgres(first.url, { max: 1, onnotice: () => {} });
    await sql`create table kept (v text)`;
    await sql`insert into kept values ('still here')`;
    await sql.end();
    await first.stop();

    const again = await startEmbeddedPostgres({ dir, port, log });
    try {
      expect(await fs.readlink(dir)).toBe(real);
      const sql2 = postgres(again.url, { max: 1, onnotice: () => {} });
      const rows = await sql2`select v from kept`;
      await sql2.end();
      expect(rows.map((r) => r.v)).toEqual(['still here']);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
