// What `vidq serve` does with an exception nothing caught (src/db/unheard-errors.ts), in a process of
// its own: the pg client whose session the server ends while pg-boss closes it, and anything else.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSessionEndedByServer } from '../../src/db/unheard-errors';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

const CHILD = path.join(import.meta.dirname, '../helpers/unheard-pg-error-child.ts');

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { code?: string; message?: string } });

describe('an uncaught exception in vidq serve', { timeout: 60_000 }, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('ends the process when a closing pg client hears its session ended, unless handled (the case the handler exists for)', async () => {
    const result = await runChild([database.url, 'unguarded']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Unhandled 'error' event/);
    expect(result.stderr).toMatch(/terminating connection due to administrator command/);
    expect(result.stdout).not.toMatch(/still running/);
  });

  it('is a warning, and the process goes on, when it is the server ending a session already being closed', async () => {
    const result = await runChild([database.url]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/still running after the session ended/);
    const warning = logLines(result.stdout).find((line) => line.level === 40);
    expect(warning?.msg).toBe('PostgreSQL ended a connection that was already being closed: ignored');
    expect(warning?.err).toMatchObject({ code: '57P01', message: 'terminating connection due to administrator command' });
    expect(result.stderr).toBe('');
  });

  it('ends the process with exit code 1, a fatal log line and the stack on stderr, for anything else', async () => {
    const result = await runChild(['', 'other']);
    expect(result.code).toBe(1);
    const fatal = logLines(result.stdout).find((line) => line.level === 60);
    expect(fatal).toMatchObject({ msg: 'uncaught exception: exiting', err: { message: 'a bug of ours' } });
    expect(result.stderr).toMatch(/^TypeError: a bug of ours\n\s+at /);
  });
});

describe('isSessionEndedByServer', () => {
  const pgError = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);
  it('is true only for the FATAL of a server stopping, crashing or starting', () => {
    for (const code of ['57P01', '57P02', '57P03']) expect(isSessionEndedByServer(pgError({ severity: 'FATAL', code }))).toBe(true);
    expect(isSessionEndedByServer(pgError({ severity: 'ERROR', code: '57P01' }))).toBe(false);
    expect(isSessionEndedByServer(pgError({ severity: 'FATAL', code: '28P01' }))).toBe(false); // bad password
    expect(isSessionEndedByServer(pgError({ severity: 'ERROR', code: '57014' }))).toBe(false); // statement cancelled
    expect(isSessionEndedByServer(pgError({ code: 'ECONNRESET' }))).toBe(false);
    expect(isSessionEndedByServer({ severity: 'FATAL', code: '57P01' })).toBe(false); // not an Error
    expect(isSessionEndedByServer(undefined)).toBe(false);
  });
});
