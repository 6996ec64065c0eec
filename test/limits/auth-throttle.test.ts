// Wrong API keys from one address: past AUTH_MAX_FAILURES in AUTH_FAILURE_WINDOW_SECONDS, counted across
// API processes, the address's failures are answered 429 RATE_LIMITED with Retry-After (HTTP) or closed
// with 4429 and a reason naming the wait (WebSocket) instead of 401/4403. Valid keys are never refused:
// a valid key from a blocked address is served as usual. Each test uses a loopback address of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WS_CLOSE_TOO_MANY_CONNECTIONS } from '../../src/server/ws-policy';
import { startTestApp, type TestApp } from '../helpers/app';
import { JOB_EVENTS, type RawSocket } from '../events/helpers';
import http from 'node:http';
import { postFrom, socketFrom, streamStatusFrom } from './helpers';

const WRONG = 'vq_thisKeyDoesNotExist000000000000000';
const LIMITS = { ROLE: 'api', AUTH_MAX_FAILURES: '5', AUTH_FAILURE_WINDOW_SECONDS: '60' };

let a: TestApp;
let b: TestApp;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  a = await startTestApp({ env: LIMITS });
  b = await startTestApp({ env: LIMITS, database: a.database, dataDir: a.dataDir });
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  await b?.close();
  await a?.close();
});

function socket(from: string, url: string, key: string | null) {
  const s = socketFrom(from, url, key);
  sockets.push(s);
  return s;
}

const VIEWER = '{ viewer { id } }';

describe('failed authentications per address', () => {
  it('are counted across API processes: past the limit a wrong key is 429 RATE_LIMITED with Retry-After, on both', async () => {
    const from = '127.0.0.11';
    // 5 wrong keys, spread over both processes, 20 of them at once would be the same: all 401.
    const first = await Promise.all([a, b, a, b, a].map((app) => postFrom(from, app.url, WRONG, VIEWER)));
    expect(first.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect(first[0]!.body.errors[0].extensions.code).toBe('INVALID_API_KEY');

    for (const app of [b, a]) {
      const refused = await postFrom(from, app.url, WRONG, VIEWER);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.body.errors).toEqual([
        {
          message: `Too many failed authentications from this address: retry after ${retryAfter} seconds.`,
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter },
        },
      ]);
    }

    // Another address is not affected.
    expect((await postFrom('127.0.0.12', a.url, WRONG, VIEWER)).status).toBe(401);
  });

  it('include wrong keys sent to the tus endpoint (/uploads): past the limit they are 429 with Retry-After', async () => {
    const from = '127.0.0.16';
    const tus = () => statusFrom(from, `${a.url}/uploads`, WRONG);
    for (let i = 0; i < 5; i++) expect((await tus()).status).toBe(401);
    const refused = await tus();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // …and they count with /graphql's: the same address is refused there too.
    expect((await postFrom(from, a.url, WRONG, VIEWER)).status).toBe(429);
  });

  it('include wrong keys sent to the REST paths: past the limit they are 429 in the envelope, with Retry-After', async () => {
    const from = '127.0.0.17';
    const rest = () => getFrom(from, `${a.url}/api/v1/jobs/job_xyz999`, WRONG);
    for (let i = 0; i < 5; i++) expect((await rest()).status).toBe(401);
    const refused = await rest();
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(JSON.parse(refused.body)).toMatchObject({
      success: false,
      error: { code: 'RATE_LIMITED', detail: `Too many failed authentications from this address: retry after ${retryAfter} seconds.` },
    });
  });

  it('never refuse a valid key: from a blocked address it is served over HTTP, WebSocket and SSE', async () => {
    const from = '127.0.0.21';
    const user = await a.createUser();
    for (let i = 0; i < 6; i++) await postFrom(from, i % 2 ? a.url : b.url, WRONG, VIEWER);
    expect((await postFrom(from, a.url, WRONG, VIEWER)).status).toBe(429);

    for (const app of [a, b]) {
      const served = await postFrom(from, app.url, user.key, VIEWER);
      expect(served.status).toBe(200);
      expect(served.body.data.viewer.id).toBe(user.id);
      expect(await streamStatusFrom(from, app.url, user.key, JOB_EVENTS)).toBe(200);
      const s = socket(from, app.url, user.key);
      await s.acked;
      s.send({ id: '1', type: 'subscribe', payload: { query: JOB_EVENTS } });
      await new Promise((r) => setTimeout(r, 200));
      expect(s.messages.filter((m) => m.type === 'error')).toEqual([]);
      s.ws.close();
    }
    // A request without any key is no failed guess: still the plain 401.
    const anonymous = await postFrom(from, a.url, null, VIEWER);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('count WebSocket connection_init with a wrong key too; past the limit the socket is closed with 4429 and the wait', async () => {
    const from = '127.0.0.31';
    for (let i = 0; i < 3; i++) expect((await socket(from, a.url, WRONG).closed).code).toBe(4403);
    for (let i = 0; i < 2; i++) expect((await postFrom(from, b.url, WRONG, VIEWER)).status).toBe(401);

    for (const app of [b, a]) {
      const closed = await socket(from, app.url, WRONG).closed;
      expect(closed.code).toBe(WS_CLOSE_TOO_MANY_CONNECTIONS);
      expect(closed.reason).toMatch(/^Too many failed authentications from this address: retry after ([1-9]|[1-5]\d|60) s$/);
    }
    expect((await postFrom(from, a.url, WRONG, VIEWER)).status).toBe(429);
  });
});

describe('the window', () => {
  it('ends: after AUTH_FAILURE_WINDOW_SECONDS the address is answered 401 again, and counted afresh', async () => {
    const short = { ROLE: 'api', AUTH_MAX_FAILURES: '2', AUTH_FAILURE_WINDOW_SECONDS: '2' };
    const c = await startTestApp({ env: short, database: a.database, dataDir: a.dataDir });
    try {
      const from = '127.0.0.41';
      expect((await postFrom(from, c.url, WRONG, VIEWER)).status).toBe(401);
      expect((await postFrom(from, c.url, WRONG, VIEWER)).status).toBe(401);
      const refused = await postFrom(from, c.url, WRONG, VIEWER);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(2);
      await new Promise((r) => setTimeout(r, 2_500));
      expect((await postFrom(from, c.url, WRONG, VIEWER)).status).toBe(401);
      expect((await postFrom(from, c.url, WRONG, VIEWER)).status).toBe(401);
      expect((await postFrom(from, c.url, WRONG, VIEWER)).status).toBe(429);
    } finally {
      await c.close();
    }
  });
});

/** A tus creation request (POST) from a given local address; resolves with status and headers. */
function statusFrom(localAddress: string, url: string, key: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const headers = {
    'tus-resumable': '1.0.0',
    'upload-length': '10',
    'upload-metadata': `filename ${Buffer.from('a.mp4').toString('base64')}`,
    authorization: `Bearer ${key}`,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET from a given local address; resolves with status, headers and body. */
function getFrom(localAddress: string, url: string, key: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers: { authorization: `Bearer ${key}` }, localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
