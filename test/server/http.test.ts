import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';

let app: TestApp;
let user: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  user = await app.createUser({ name: 'http' });
});
afterAll(() => app?.close());

/** Sends bytes as they are (fetch refuses malformed headers) and returns the raw response. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let response = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (response += chunk));
    socket.on('close', () => resolve(response));
    socket.on('error', reject);
  });
}

function viewerPost(headers: Record<string, string> = {}) {
  return fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}`, ...headers },
    body: JSON.stringify({ query: '{ viewer { id } }' }),
  });
}

describe('request ids', () => {
  it('marks every response with an x-request-id: 200, 401, 404, /health and GraphiQL', async () => {
    const responses = {
      ok: await viewerPost(),
      unauthenticated: await gql(app.url, null, '{ viewer { id } }'),
      notFound: await fetch(`${app.url}/no-such-page`),
      health: await fetch(`${app.url}/health`),
      graphiql: await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } }),
    };
    expect(responses.ok.status).toBe(200);
    expect(responses.unauthenticated.status).toBe(401);
    expect(responses.notFound.status).toBe(404);
    expect(responses.health.status).toBe(200);
    expect(responses.graphiql.status).toBe(200);
    const ids = Object.values(responses).map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-z]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('echoes a sane x-request-id sent by the client, so logs correlate across systems', async () => {
    const res = await viewerPost({ 'x-request-id': 'gateway-7f3a.42:retry_1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('gateway-7f3a.42:retry_1');
  });

  it('replaces an x-request-id that is too long or carries characters that could forge log lines or headers', async () => {
    for (const evil of ['a'.repeat(500), 'abc%0d%0aSet-Cookie: session=1', '<script>alert(1)</script>', 'two words', 'tab\there']) {
      const res = await viewerPost({ 'x-request-id': evil });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-z]{20}$/);
    }
  });

  it('never lets a newline in x-request-id reach a response header', async () => {
    for (const separator of ['\n', '\r', '\r\n ']) {
      const response = await rawRequest(
        app.api!.port,
        `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: evil${separator}Set-Cookie: session=1\r\nConnection: close\r\n\r\n`,
      );
      expect(response).toMatch(/^HTTP\/1\.1 (200|400) /);
      expect(response.toLowerCase()).not.toContain('set-cookie');
      expect(response).not.toContain('evil');
    }
  });
});

describe('GraphiQL', () => {
  it('serves the GraphiQL page to a browser at GET /graphql without an API key', async () => {
    const res = await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<title>vidq<\/title>/);
    expect(html.toLowerCase()).toContain('graphiql');
    // GraphiQL sends its Headers tab (the key) over HTTP only: subscriptions go over SSE on this same
    // path (driven end to end in Chromium: test/graphiql). Its files come from this server, not a CDN.
    expect(html).toContain('"subscriptionsProtocol":"SSE"');
    expect(html.match(/(?:src|href)="[^"]*"/g)?.filter((a) => /="(?:https?:)?\/\//.test(a)) ?? []).toEqual([]);
    expect(html).toContain('Bearer vq_your_key_here');
  });

  it('still requires a key for an operation sent by GET', async () => {
    const query = encodeURIComponent('{ viewer { id } }');
    const anonymous = await fetch(`${app.url}/graphql?query=${query}`, { headers: { accept: 'application/json' } });
    expect(anonymous.status).toBe(401);
    const withKey = await fetch(`${app.url}/graphql?query=${query}`, {
      headers: { accept: 'application/json', authorization: `Bearer ${user.key}` },
    });
    expect(withKey.status).toBe(200);
    expect((await withKey.json()).data.viewer.id).toBe(user.id);
  });
});

describe('variables GraphQL refuses', () => {
  const SUBMIT = 'mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { __typename } }';
  async function send(accept: string, variables: Record<string, unknown>) {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${user.key}` },
      body: JSON.stringify({ query: SUBMIT, variables }),
    });
    return { status: res.status, body: await res.json() };
  }

  it('are INVALID_INPUT request errors naming the variable and the field: 400 for graphql-response+json, 200 for json', async () => {
    const wrongEnum = await send('application/graphql-response+json', { input: { videoId: 'vid_x', model: 'TURBO' } });
    expect(wrongEnum.status).toBe(400);
    expect(wrongEnum.body.data).toBeUndefined();
    expect(wrongEnum.body.errors).toHaveLength(1);
    expect(wrongEnum.body.errors[0].message).toMatch(
      /^Variable "\$input" got invalid value "TURBO" at "input\.model"; Value "TURBO" does not exist in "ProcessingModel" enum/,
    );
    expect(wrongEnum.body.errors[0].extensions).toMatchObject({ code: 'INVALID_INPUT', detail: expect.stringContaining('schema.graphql') });

    const missing = await send('application/json', { input: { model: 'FAST' } });
    expect(missing.status).toBe(200);
    expect(missing.body.errors[0].message).toMatch(/^Variable "\$input" got invalid value .* Field "videoId" of required type "ID!" was not provided\./);
    expect(missing.body.errors[0].extensions.code).toBe('INVALID_INPUT');

    const absent = await send('application/json', {});
    expect(absent.body.errors[0]).toMatchObject({
      message: 'Variable "$input" of required type "SubmitJobInput!" was not provided.',
      extensions: { code: 'INVALID_INPUT' },
    });
  });
});

describe('query limits', () => {
  /** A query nested `levels` times through the introspection types (the only recursive types every schema has). */
  function nested(levels: number) {
    let selection = 'name';
    for (let i = 0; i < levels; i++) selection = `ofType { ${selection} }`;
    return `{ __type(name: "Query") { ${selection} } }`;
  }

  it('answers a query within the depth limit', async () => {
    const res = await gql(app.url, user.key, nested(8));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.__type.ofType).toBeNull();
  });

  it('refuses a query nested deeper than the limit before running it', async () => {
    const res = await gql(app.url, user.key, nested(14));
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0].message).toMatch(/depth limit of 12 exceeded/i);
    expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.status).toBe(400);
  });

  it('refuses a query with more tokens than the limit', async () => {
    const fields = Array.from({ length: 6000 }, () => 'id').join(' ');
    const res = await gql(app.url, user.key, `{ viewer { ${fields} } }`);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0].message).toMatch(/token limit/i);
    expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('refuses more aliases than the limit', async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: viewer { id }`).join(' ');
    const res = await gql(app.url, user.key, `{ ${aliases} }`);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0].message).toMatch(/aliases limit/i);
    expect(res.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('plain HTTP', () => {
  it('answers an unknown path with 404 and a hint where GraphQL is served', async () => {
    const res = await fetch(`${app.url}/graphq`);
    expect(res.status).toBe(404);
    expect((await res.json()).error).toMatch(/\/graphql/);
  });
});

describe('GraphQL request bodies', () => {
  const post = (body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }, extra: RequestInit = {}) =>
    fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${user.key}`, ...headers }, body, ...extra });

  it('refuses a body declared larger than 1 MB with 413 before reading it, and keeps serving', async () => {
    const big = JSON.stringify({ query: '{ viewer { id } }', variables: { pad: 'x'.repeat(1024 * 1024) } });
    const res = await post(big);
    expect(res.status).toBe(413);
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('INVALID_INPUT'); // a code of the error catalog
    expect(body.errors[0].message).toMatch(/multipart/);
    expect(body.errors[0].extensions.detail).toMatch(/tus at \/uploads/);
    expect((await viewerPost()).status).toBe(200);
  });

  it('refuses a chunked body (no Content-Length) once it passes 1 MB', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 40) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await post(stream, { 'content-type': 'application/json' }, { duplex: 'half' } as RequestInit);
    expect(res.headers.get('content-length')).not.toBeNull();
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].extensions.code).toBe('INVALID_INPUT');
  });

  it('answers a body just under the limit', async () => {
    const query = '{ viewer { id } }';
    const padding = 1024 * 1024 - JSON.stringify({ query, variables: { pad: '' } }).length - 10;
    const res = await post(JSON.stringify({ query, variables: { pad: 'y'.repeat(padding) } }));
    expect(res.status).toBe(200);
    expect((await res.json()).data.viewer.id).toBe(user.id);
  });

  it('answers invalid JSON and a non-object body with 400 INVALID_INPUT, saying what to send', async () => {
    const invalid = await post('{"query": "{ viewer { id } }"');
    expect(invalid.status).toBe(400);
    const invalidBody = await invalid.json();
    expect(invalidBody.errors[0].message).toBe('POST body sent invalid JSON.');
    expect(invalidBody.errors[0].extensions.code).toBe('INVALID_INPUT');
    expect(invalidBody.errors[0].extensions.detail).toMatch(/^POST body sent invalid JSON\. \(.+\) Send a JSON object/);
    expect(invalidBody.errors[0].extensions).not.toHaveProperty('originalError');
    const scalar = await post('42');
    expect(scalar.status).toBe(400);
    expect((await scalar.json()).errors[0].message).toMatch(/expected to be object but received number/);
  });

  it('still serves bodies of other content types Yoga understands (application/graphql+json, form-encoded)', async () => {
    const graphqlJson = await post(JSON.stringify({ query: '{ viewer { id } }' }), { 'content-type': 'application/graphql+json' });
    expect(graphqlJson.status).toBe(200);
    expect((await graphqlJson.json()).data.viewer.id).toBe(user.id);
    const form = await post(new URLSearchParams({ query: '{ viewer { id } }' }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    });
    expect(form.status).toBe(200);
    expect((await form.json()).data.viewer.id).toBe(user.id);
  });
});
