// The sender against a real local HTTP server. The receiver lives on 127.0.0.1, so tests of
// normal delivery pass allowPrivate: true; the guard tests pass false and expect a refusal.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendWebhook } from '../../src/webhooks/http-sender';
import { generateWebhookSecret, signWebhook } from '../../src/webhooks/signing';
import { checkWebhookUrl } from '../../src/webhooks/url-guard';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

const body = JSON.stringify({ type: 'job.completed', id: 'evt_1', createdAt: '2025-06-01T12:00:00Z', data: { jobId: 'job_1' } });
const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': '1748779200', 'webhook-signature': 'v1,x' };

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  await receiver.close();
});

const send = (path = '/hook', extra: Partial<Parameters<typeof sendWebhook>[0]> = {}) =>
  sendWebhook({ url: `${receiver.url}${path}`, body, headers, allowPrivate: true, ...extra });

describe('sendWebhook', () => {
  it('delivers a signed JSON POST that the receiver can verify, and reports 200 as ok', async () => {
    const secret = generateWebhookSecret();
    const signed = signWebhook({ id: 'evt_1', timestamp: new Date(), body, secrets: [secret] });
    receiver.setBehaviour({ status: 200, body: 'thanks' });

    const result = await sendWebhook({ url: `${receiver.url}/hook`, body, headers: signed, allowPrivate: true });

    expect(result).toMatchObject({ ok: true, statusCode: 200, error: null, gone: false, retryAfterSeconds: null, responseBodySnippet: 'thanks' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [req] = receiver.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/hook', body });
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe('vidq-webhooks/1');
    expect(new Webhook(secret).verify(req.body, req.headers as Record<string, string>)).toEqual(JSON.parse(body));
  });

  it('reports a 500 as a failure with the status code', async () => {
    receiver.setBehaviour({ status: 500, body: 'boom' });
    expect(await send()).toMatchObject({ ok: false, statusCode: 500, error: 'HTTP 500', gone: false, responseBodySnippet: 'boom' });
  });

  it('does not follow a 301 redirect and treats it as a failure', async () => {
    receiver.setBehaviour((req) => (req.path === '/hook' ? { status: 301, headers: { Location: `${receiver.url}/elsewhere` } } : { status: 200 }));
    const result = await send();
    expect(result).toMatchObject({ ok: false, statusCode: 301 });
    expect(result.error).toContain('not followed');
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook']);
  });

  it('flags 410 Gone so the caller can disable the endpoint', async () => {
    receiver.setBehaviour({ status: 410 });
    expect(await send()).toMatchObject({ ok: false, statusCode: 410, gone: true });
  });

  it('reads Retry-After in seconds from a 429', async () => {
    receiver.setBehaviour({ status: 429, headers: { 'Retry-After': '7' } });
    expect(await send()).toMatchObject({ ok: false, statusCode: 429, retryAfterSeconds: 7 });
  });

  it('reads Retry-After as an HTTP date from a 503', async () => {
    const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
    receiver.setBehaviour({ status: 503, headers: { 'Retry-After': inTwoMinutes } });
    const result = await send();
    expect(result.statusCode).toBe(503);
    expect(result.retryAfterSeconds).toBeGreaterThan(60);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(120);
  });

  it('walks a scripted 500, 500, 200 sequence one attempt at a time', async () => {
    receiver.setBehaviour([{ status: 500 }, { status: 500 }, { status: 200 }]);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send()).statusCode);
    expect(statuses).toEqual([500, 500, 200]);
    expect(await receiver.waitFor(3)).toHaveLength(3);
  });

  it('gives up with a timeout error when the receiver never answers', async () => {
    receiver.setBehaviour({ hang: true });
    expect(await send('/hook', { timeoutMs: 300 })).toMatchObject({ ok: false, statusCode: null, error: 'timeout after 300 ms' });
  });

  it('counts a body that never finishes against the same timeout', async () => {
    receiver.setBehaviour({ status: 200, hangAfterHeaders: true });
    expect(await send('/hook', { timeoutMs: 300 })).toMatchObject({ ok: false, error: 'timeout after 300 ms' });
  });

  it('keeps only the first 4 KB of a large response body', async () => {
    receiver.setBehaviour({ status: 200, body: 'x'.repeat(100_000) });
    const result = await send();
    expect(result.ok).toBe(true);
    expect(result.responseBodySnippet).toHaveLength(4096);
  });

  it('reports a refused connection instead of throwing', async () => {
    const deadUrl = receiver.url;
    await receiver.close();
    receiver = await startReceiver(); // for afterEach
    const result = await sendWebhook({ url: `${deadUrl}/hook`, body, headers, allowPrivate: true });
    expect(result).toMatchObject({ ok: false, statusCode: null, error: expect.stringContaining('ECONNREFUSED') });
  });

  it('reports an invalid header value instead of throwing', async () => {
    const result = await send('/hook', { headers: { 'webhook-id': 'evt_1\r\nX-Injected: 1' } });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/invalid character/i);
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('sendWebhook connect-time guard', () => {
  it('refuses the local receiver by IP literal when allowPrivate is false', async () => {
    const result = await send('/hook', { allowPrivate: false });
    expect(result).toMatchObject({ ok: false, statusCode: null, error: expect.stringContaining('127.0.0.1 is a loopback address') });
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a name that passed registration but resolves to the local receiver at connect time (DNS rebinding)', async () => {
    const port = new URL(receiver.url).port;
    const url = `http://hooks.example.com:${port}/hook`;
    // Registration: DNS says public, so the URL is accepted and stored.
    const registered = await checkWebhookUrl(url, { allowPrivate: false, resolve: async () => ['93.184.215.14'] });
    expect(registered.ok).toBe(true);
    // Delivery: the same name now answers 127.0.0.1.
    const rebound = async () => ['127.0.0.1'];

    const refused = await sendWebhook({ url, body, headers, allowPrivate: false, resolve: rebound });
    expect(refused.ok).toBe(false);
    expect(refused.error).toContain('refused to connect: hooks.example.com resolves to 127.0.0.1, a loopback address');
    expect(receiver.requests).toHaveLength(0);

    // Control: with private targets allowed the very same request does reach the receiver,
    // so it was the guard, not a broken setup, that stopped it above.
    const allowed = await sendWebhook({ url, body, headers, allowPrivate: true, resolve: rebound });
    expect(allowed).toMatchObject({ ok: true, statusCode: 200 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('refuses localhost through the system resolver when allowPrivate is false', async () => {
    const port = new URL(receiver.url).port;
    const result = await sendWebhook({ url: `http://localhost:${port}/hook`, body, headers, allowPrivate: false });
    expect(result.error).toContain('refused to connect');
    expect(receiver.requests).toHaveLength(0);
  });
});

describe('sendWebhook keep-alive', () => {
  async function countingServer(reply: (n: number) => number) {
    let connections = 0;
    let requests = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(reply(++requests));
        res.end('ok');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      connections: () => connections,
      close: () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    };
  }

  it('reuses one connection for consecutive deliveries when asked to, whatever their status', async () => {
    const server = await countingServer((n) => (n === 2 ? 500 : 200));
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await sendWebhook({ url: server.url, body, headers, allowPrivate: true, keepAlive: true })).statusCode);
      expect(statuses).toEqual([200, 500, 200, 200]);
      expect(server.connections()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('opens a connection per request by default, and whenever a custom resolver is used', async () => {
    const server = await countingServer(() => 200);
    try {
      await sendWebhook({ url: server.url, body, headers, allowPrivate: true });
      await sendWebhook({ url: server.url, body, headers, allowPrivate: true });
      const host = server.url.replace('127.0.0.1', 'hooks.example.com');
      await sendWebhook({ url: host, body, headers, allowPrivate: true, keepAlive: true, resolve: async () => ['127.0.0.1'] });
      await sendWebhook({ url: host, body, headers, allowPrivate: true, keepAlive: true, resolve: async () => ['127.0.0.1'] });
      expect(server.connections()).toBe(4);
    } finally {
      await server.close();
    }
  });
});
