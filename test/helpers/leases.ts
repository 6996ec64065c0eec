// For tests of what several processes share through one database: a database of the file's own and
// process leases on it, each standing for one process (closing a lease is that process dying). All
// are closed, and the database dropped, when the file ends.
import { afterAll, beforeAll } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/client';
import { ProcessLease } from '../../src/db/process-lease';
import { createLogger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from './db';

export const silentLog = createLogger('silent');

export function databaseWithLeases(): { url(): string; db(): Database; takeLease(applicationName: string): Promise<ProcessLease> } {
  let database: TestDatabase | undefined;
  let db: Database | undefined;
  const leases: ProcessLease[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    db = connectDatabase(database.url, { max: 10 });
  });
  afterAll(async () => {
    for (const lease of leases) await lease.close();
    await db?.close();
    await database?.drop();
  });
  return {
    url: () => database!.url,
    db: () => db!,
    async takeLease(applicationName) {
      const lease = await ProcessLease.take(database!.url, silentLog, applicationName);
      leases.push(lease);
      return lease;
    },
  };
}
