// Which PostgreSQL failures are transient (answered 503 SERVICE_UNAVAILABLE, retryable) and which are not,
// on errors a real server raises: a session terminated by an administrator, a role out of connections,
// a server that cannot be reached, against a syntax error and a unique violation.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isUniqueViolation } from '../../src/db/errors';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let database: TestDatabase;
let admin: postgres.Sql;
beforeAll(async () => {
  database = await createTestDatabase();
  admin = postgres(database.url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await admin?.end();
  await database?.drop();
});

/** The error `run` rejects with. */
async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('isDatabaseUnavailable', () => {
  it('is true for a session an administrator terminated, a role out of connections (53300), an unreachable server', async () => {
    const victim = postgres(database.url, { max: 1, onnotice: () => {} });
    const [{ pid }] = await victim`select pg_backend_pid() as pid`;
    const terminated = await failureOf(() => Promise.all([victim`select pg_sleep(5)`, admin`select pg_sleep(0.2), pg_terminate_backend(${pid})`]));
    await victim.end({ timeout: 1 });
    // postgres.js reports the connection closed (the server's 57P01 goes with it)
    expect((terminated as { code?: string }).code).toBe('CONNECTION_CLOSED');
    expect(isDatabaseUnavailable(terminated)).toBe(true);

    const role = `vidq_full_${Date.now()}`;
    await admin.unsafe(`create role ${role} login password 'vidq' connection limit 0`);
    try {
      const url = new URL(database.url);
      url.username = role;
      url.password = 'vidq';
      const full = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const refused = await failureOf(() => full`select 1`);
      await full.end({ timeout: 1 });
      expect((refused as { code?: string }).code).toBe('53300');
      expect(isDatabaseUnavailable(refused)).toBe(true);
    } finally {
      await admin.unsafe(`drop role ${role}`);
    }

    const nowhere = postgres('postgres://postgres@127.0.0.1:1/none', { max: 1, connect_timeout: 2 });
    const unreachable = await failureOf(() => nowhere`select 1`);
    await nowhere.end({ timeout: 1 });
    expect(isDatabaseUnavailable(unreachable)).toBe(true);
    // Wrapped, as drizzle wraps the driver's error.
    expect(isDatabaseUnavailable(new Error('Failed query', { cause: unreachable }))).toBe(true);
  });

  it('is false for a bug of ours or a conflict: a syntax error, a unique violation, an error with no code', async () => {
    const syntax = await failureOf(() => admin`selec 1`);
    expect(isDatabaseUnavailable(syntax)).toBe(false);
    await admin`create table t (id int primary key)`;
    await admin`insert into t values (1)`;
    const duplicate = await failureOf(() => admin`insert into t values (1)`);
    expect(isDatabaseUnavailable(duplicate)).toBe(false);
    expect(isUniqueViolation(new Error('Failed query', { cause: duplicate }), 't_pkey')).toBe(true);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });
});
