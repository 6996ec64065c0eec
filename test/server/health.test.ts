import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import type { TestDatabase } from '../helpers/db';
import { gql } from '../helpers/graphql';
import { upload } from '../helpers/upload';
import { openSocket } from '../events/helpers';
import { databaseBehindProxy, type TcpProxy } from '../helpers/tcp-proxy';

/** Polls until check() returns something other than null (no fixed sleeps: conditions only). */
async function waitFor<T>(check: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function getHealth(baseUrl: string) {
  const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /health on a healthy server', () => {
  let app: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    app = await startTestApp();
    user = await app.createUser({ name: 'health' });
  });
  afterAll(() => app?.close());

  it('answers 200 with every part ok, without an API key', async () => {
    const { status, body } = await getHealth(app.url);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', database: 'ok', queue: 'ok', role: 'all' });
    expect(typeof body.uptimeSeconds).toBe('number');
  });

  it('carries the version and the runtime configuration a client may rely on, and no secret', async () => {
    const { body } = await getHealth(app.url);
    const { version } = JSON.parse(await fs.readFile(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(body.version).toBe(version);
    expect(body.config).toEqual({
      maxFileSizeMb: 1000,
      processingTimeoutSeconds: 3600,
      storageDriver: 'local',
      pipelines: ['default', 'hls'],
      webhookMaxRetries: 3,
      webhookTimeoutMs: 10000,
    });
    const text = JSON.stringify(body);
    for (const secret of [app.config.databaseUrl ?? 'postgres://', 'whsec_', 'vq_', app.dataDir]) expect(text).not.toContain(secret);
    const res = await gql(
      app.url,
      user.key,
      '{ health { version config { maxFileSizeMb processingTimeoutSeconds storageDriver pipelines webhookMaxRetries webhookTimeoutMs } } }',
    );
    expect(res.body.data.health).toEqual({ version, config: body.config });
  });

  it('answers HEAD /health with the status and no body', async () => {
    const res = await fetch(`${app.url}/health`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('reports the same through the health query', async () => {
    const res = await gql(app.url, user.key, '{ health { status database queue role uptimeSeconds } }');
    expect(res.status).toBe(200);
    expect(res.body.data.health).toMatchObject({ status: 'ok', database: 'ok', queue: 'ok', role: 'all' });
  });
});

describe('GET /health when PostgreSQL becomes unreachable', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    let url: string;
    ({ database, proxy, url } = await databaseBehindProxy());
    app = await startTestApp({ database, env: { DATABASE_URL: url } });
    user = await app.createUser({ name: 'cut-off' });
  });
  afterAll(async () => {
    proxy?.restore();
    await app?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 naming the database and the queue as failing (and requests and streams 503 SERVICE_UNAVAILABLE, sockets 1013), then 200 again once PostgreSQL is back', async () => {
    expect((await getHealth(app.url)).status).toBe(200);

    proxy.cut();
    const down = await getHealth(app.url);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.database).not.toBe('ok');
    expect(down.body.queue).not.toBe('ok');
    expect(String(down.body.database)).toMatch(/^error: /);
    // A request meanwhile is told the failure is transient, not a bug to report.
    const refused = await gql(app.url, user.key, '{ viewer { id } }');
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(refused.body.errors?.[0]?.message).toMatch(/The database did not answer; retry shortly \(request id req_/);
    // So is an upload, a REST call, a tus upload's creation, an event stream, and a socket (with the code graphql-ws clients retry).
    const rest = await fetch(`${app.url}/api/v1/jobs/job_123`, { headers: { authorization: `Bearer ${user.key}` } });
    expect(rest.status).toBe(503);
    expect((await rest.json()).error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringMatching(/The database did not answer/) });
    const tus = await fetch(`${app.url}/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${user.key}`,
        'tus-resumable': '1.0.0',
        'upload-length': '100',
        'upload-metadata': `filename ${Buffer.from('a.mp4').toString('base64')}`,
      },
    });
    expect(tus.status).toBe(503);
    expect((await tus.json()).errors[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    const stream = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${user.key}` },
      body: JSON.stringify({ query: 'subscription { jobEvents { jobId } }' }),
    });
    expect(stream.status).toBe(503);
    expect(await stream.text()).toMatch(/event: next\ndata: .*"code":"SERVICE_UNAVAILABLE","retryable":true.*\n\nevent: complete/s);
    const uploaded = await upload(app, user.key, { file: Buffer.alloc(3 * 1024 * 1024, 7), filename: 'big.mp4' });
    expect(uploaded.status).toBe(503);
    expect(uploaded.body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(await openSocket(app.url, user.key).closed).toEqual({ code: 1013, reason: 'The database did not answer: retry shortly' });

    proxy.restore();
    // Both pools (the application's and pg-boss's) reconnect on their own.
    const up = await waitFor(async () => {
      const health = await getHealth(app.url);
      return health.status === 200 ? health : null;
    });
    expect(up.body).toMatchObject({ status: 'ok', database: 'ok', queue: 'ok' });
    const res = await gql(app.url, user.key, '{ viewer { id } }');
    expect(res.status).toBe(200);
    expect(res.body.data.viewer.id).toBe(user.id);
  });
});
