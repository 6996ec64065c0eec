import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES } from '../../src/errors/catalog';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';

let app: TestApp;
let user: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  user = await app.createUser({ name: 'errors' });
});
afterAll(() => app?.close());

describe('an unexpected exception', () => {
  it('reaches the client masked, without database text, with the request id of the response', async () => {
    const logged = vi.spyOn(app.services.log, 'error');
    // Break the database under the running server: every query on users now fails.
    await app.services.database.sql`alter table users rename to users_gone`;
    let res;
    let logCalls: unknown[][];
    try {
      res = await gql(app.url, user.key, '{ viewer { id name } }');
    } finally {
      await app.services.database.sql`alter table users_gone rename to users`;
      logCalls = [...logged.mock.calls];
      logged.mockRestore();
    }

    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/relation|users_gone|select|sql|postgres|drizzle/i);
    expect(res.body.data ?? null).toBeNull();
    const [error] = res.body.errors ?? [];
    expect(error.extensions?.code).toBe('INTERNAL_ERROR');
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_/);
    expect(error.extensions?.requestId).toBe(requestId);
    expect(error.message).toContain(`Quote request id ${requestId}`);

    // The operator finds the real cause in the logs under the same request id.
    const entry = logCalls.find(([fields]) => (fields as { requestId?: string })?.requestId === requestId);
    expect(entry).toBeDefined();
    expect(String((entry![0] as { err: unknown }).err)).toMatch(/users/);
  });

  it('leaves the server working once the cause is gone', async () => {
    const res = await gql(app.url, user.key, '{ viewer { id name } }');
    expect(res.status).toBe(200);
    expect(res.body.data.viewer).toEqual({ id: user.id, name: 'errors' });
  });
});

describe('errorCatalog', () => {
  const CATALOG = '{ errorCatalog { code httpStatus retryable message description } }';

  it('lists every code of the contract exactly once, each with its HTTP equivalent, retryable flag and a description', async () => {
    const res = await gql(app.url, user.key, CATALOG);
    expect(res.status).toBe(200);
    const entries: Array<{ code: string; httpStatus: number; retryable: boolean; message: string; description: string }> = res.body.data.errorCatalog;
    const codes = entries.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(
      [
        'INVALID_INPUT',
        'UNAUTHENTICATED',
        'INVALID_API_KEY',
        'INSUFFICIENT_CREDITS',
        'FORBIDDEN',
        'VIDEO_NOT_FOUND',
        'JOB_NOT_FOUND',
        'JOB_ALREADY_PROCESSING',
        'JOB_NOT_COMPLETE',
        'JOB_TIMEOUT',
        'JOB_FAILED',
        'FILE_TOO_LARGE',
        'UNSUPPORTED_FORMAT',
        'VIDEO_CORRUPT',
        'UPLOAD_NOT_FOUND',
        'UPLOAD_INCOMPLETE',
        'RATE_LIMITED',
        'WEBHOOK_DELIVERY_FAILED',
        'SERVICE_UNAVAILABLE',
        'INTERNAL_ERROR',
      ].sort(),
    );
    expect(codes).toEqual([...ERROR_CODES]);
    for (const entry of entries) {
      expect(typeof entry.httpStatus).toBe('number');
      expect(typeof entry.retryable).toBe('boolean');
      expect(entry.description.length).toBeGreaterThan(10);
    }
  });

  it('gives the HTTP equivalents and retryable flags of the contract', async () => {
    const res = await gql(app.url, user.key, CATALOG);
    const entries: Array<{ code: string; httpStatus: number; retryable: boolean; message: string }> = res.body.data.errorCatalog;
    const byCode = Object.fromEntries(entries.map((e) => [e.code, e]));
    expect(byCode.FILE_TOO_LARGE).toMatchObject({ httpStatus: 413, message: 'Uploaded file exceeds the maximum allowed size.' });
    expect(byCode.JOB_TIMEOUT).toMatchObject({ httpStatus: 504, retryable: false });
    expect(byCode.INSUFFICIENT_CREDITS).toMatchObject({ httpStatus: 402, message: 'Account credits below required amount.' });
    expect(byCode.INVALID_INPUT.httpStatus).toBe(400);
    expect(byCode.UNAUTHENTICATED.httpStatus).toBe(401);
    expect(byCode.INVALID_API_KEY.httpStatus).toBe(401);
    expect(byCode.FORBIDDEN.httpStatus).toBe(403);
    expect(byCode.VIDEO_NOT_FOUND.httpStatus).toBe(404);
    expect(byCode.JOB_NOT_FOUND.httpStatus).toBe(404);
    expect(byCode.JOB_ALREADY_PROCESSING.httpStatus).toBe(409);
    expect(byCode.JOB_NOT_COMPLETE.httpStatus).toBe(409);
    expect(byCode.JOB_FAILED.httpStatus).toBe(500);
    expect(byCode.UNSUPPORTED_FORMAT.httpStatus).toBe(415);
    expect(byCode.VIDEO_CORRUPT.httpStatus).toBe(422);
    expect(byCode.RATE_LIMITED).toMatchObject({ httpStatus: 429, retryable: true });
    expect(byCode.SERVICE_UNAVAILABLE).toMatchObject({ httpStatus: 503, retryable: true });
    expect(byCode.INTERNAL_ERROR.httpStatus).toBe(500);
  });
});
