// Malformed input a black-box probe sent, reproduced as found: each one must be a clear 4xx or a typed
// error, never a 500 or a process that falls over.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJobRow, insertVideoRow } from '../helpers/rows';
import { signedDownloadUrl } from '../../src/downloads/urls';
import { jobOutputDir } from '../helpers/jobs';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';

let app: TestApp;
let alice: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  alice = await app.createUser({ name: 'alice' });
});
afterAll(async () => {
  await app?.close();
});

/** Sends raw bytes and returns the status line of the answer. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(app.url);
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer.split('\r\n')[0]));
  });
}

describe('a malformed request target', () => {
  it('answers 400, not 500', async () => {
    expect(await raw('GET // HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
  });
});

describe('a download URL with broken percent-encoding', () => {
  it('answers 404, not 500', async () => {
    const res = await fetch(`${app.url}/files/job_x/%E0%A4%A?expires=1&signature=x`);
    expect(res.status).toBe(404);
  });
});

describe('a download whose file is removed while it is being sent', () => {
  it('is sent whole from the open file, and the server keeps serving', async () => {
    const video = await insertVideoRow(app.services.database.db, alice.id, {
      filename: 'a.mp4',
      storagePath: 'uploads/none/source.mp4',
      metadata: { width: 2, height: 2, frameRate: 1 },
    });
    const jobId = await insertJobRow(app.services.database.db, alice.id, video.id, { status: 'COMPLETED' });
    const dir = jobOutputDir(app, jobId);
    await fs.mkdir(dir, { recursive: true });
    const content = Buffer.alloc(32 * 1024 * 1024, 7);
    await fs.writeFile(path.join(dir, 'big.mp4'), content);
    const url = await signedDownloadUrl(app.services.database.db, app.url, jobId, 'big.mp4');

    const res = await fetch(url);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = (await reader.read()).value!.length;
    await fs.rm(dir, { recursive: true, force: true }); // retention or deleteVideo, racing the download
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
    expect(received).toBe(content.length);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
  });
});

describe('a NUL character in an argument', () => {
  const NUL = '\u0000';

  it('is InvalidInputError, with the field path, where the result has that member', async () => {
    const res = await gql(
      app.url,
      alice.key,
      `mutation($input: SubmitJobInput!) { submitJob(input: $input) {
      __typename ... on InvalidInputError { code fieldErrors { path message } } } }`,
      {
        input: { videoId: 'vid_x', idempotencyKey: `a${NUL}b` },
      },
    );
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    expect(res.body.data.submitJob).toEqual({
      __typename: 'InvalidInputError',
      code: 'INVALID_INPUT',
      fieldErrors: [{ path: ['input', 'idempotencyKey'], message: 'must not contain NUL (\\u0000) characters' }],
    });
  });

  it('is InvalidInputError in a webhook endpoint’s description and a key name too', async () => {
    const endpoint = await gql(
      app.url,
      alice.key,
      `mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/h", description: "x\\u0000y" }) {
      __typename ... on InvalidInputError { fieldErrors { path } } } }`,
    );
    expect(endpoint.body.errors, JSON.stringify(endpoint.body.errors)).toBeUndefined();
    expect(endpoint.body.data.createWebhookEndpoint).toEqual({ __typename: 'InvalidInputError', fieldErrors: [{ path: ['input', 'description'] }] });
    const key = await gql(app.url, alice.key, `mutation { createApiKey(name: "k\\u0000") { __typename } }`);
    expect(key.body.errors?.[0]?.extensions?.code ?? key.body.data?.createApiKey?.__typename).toMatch(/INVALID_INPUT|InvalidInputError/);
    const [{ n }] = await app.services.database.sql`select count(*)::int as n from webhook_endpoints`;
    expect(n).toBe(0);
  });

  it('is a request error with code INVALID_INPUT where the result has no such member (video(id:))', async () => {
    const res = await gql(app.url, alice.key, `query($id: ID!) { video(id: $id) { __typename } }`, { id: `vid_${NUL}x` });
    expect(res.status).not.toBe(500);
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'INVALID_INPUT', fieldErrors: [{ path: ['id'] }] });
  });

  it('is refused in a subscription’s arguments (SSE) with INVALID_INPUT', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription($id: ID!) { jobUpdated(jobId: $id) { __typename } }', variables: { id: `job_${NUL}` } }),
    });
    const text = await res.text();
    expect(text).toContain('INVALID_INPUT');
    expect(text).not.toContain('INTERNAL_ERROR');
  });
});

describe('an Accept header vidq cannot answer', () => {
  const post = (accept: string, query: string) =>
    fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json', accept },
      body: JSON.stringify({ query }),
    });

  it('is a 406 that says a subscription is streamed, and how to ask for it', async () => {
    const res = await post('application/json', 'subscription { jobEvents { __typename } }');
    expect(res.status).toBe(406);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('accept')).toContain('text/event-stream');
    const body = await res.json();
    expect(body.errors).toEqual([
      { message: expect.stringMatching(/send Accept: text\/event-stream, or subscribe over WebSocket/), extensions: { code: 'NOT_ACCEPTABLE' } },
    ]);
  });

  it('is a 406 that names the JSON types for a query', async () => {
    const res = await post('image/png', '{ viewer { id } }');
    expect(res.status).toBe(406);
    const body = await res.json();
    expect(body.errors[0].extensions).toEqual({ code: 'NOT_ACCEPTABLE' });
    expect(body.errors[0].message).toMatch(/send Accept: application\/json/);
  });
});
