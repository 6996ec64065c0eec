// The first contact with DATABASE_URL's server: a peer that takes the connection and never answers
// (a wrong port, a proxy) stops the start after a bounded wait with a line that says so. The other
// failures are run through `vidq serve` and `vidq migrate` in cli.test.ts.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkDatabaseReachable, DatabaseUnreachableError, explainConnectionFailure, redactDatabaseUrl } from '../../src/db/reachable';

let silent: net.Server;
let port: number;
const open = new Set<net.Socket>();

beforeAll(async () => {
  silent = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as net.AddressInfo).port;
});
afterAll(() => {
  for (const socket of open) socket.destroy();
  silent.close();
});

it('gives up on a server that takes the connection and never answers, and names DATABASE_URL', async () => {
  const url = `postgres://vidq:s3cret@127.0.0.1:${port}/vidq`;
  const failure = await checkDatabaseReachable(url, 300).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(DatabaseUnreachableError);
  expect((failure as Error).message).toBe(
    `DATABASE_URL=postgres://vidq:***@127.0.0.1:${port}/vidq: no answer from PostgreSQL at 127.0.0.1:${port} within 0.3 s (NO_ANSWER). Check that this host and port are PostgreSQL's and that no firewall is in between.`,
  );
});

it('leaves errors that are not about reaching the database as they are, and never prints a password', () => {
  expect(explainConnectionFailure('postgres://a@h/d', Object.assign(new Error('syntax error'), { code: '42601' }))).toBeNull();
  expect(redactDatabaseUrl('postgres://user:pa%40ss@db.internal:6432/app?sslmode=require')).toBe('postgres://user:***@db.internal:6432/app?sslmode=require');
  expect(redactDatabaseUrl('postgres://user@db.internal/app')).toBe('postgres://user@db.internal/app');
  expect(redactDatabaseUrl('postgres://user@db.internal/app?password=hunter2&sslmode=require')).toBe(
    'postgres://user@db.internal/app?password=***&sslmode=require',
  );
});
