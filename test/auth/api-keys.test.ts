import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { revokeApiKey } from '../../src/auth/keys';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql, wsClient, wsCollect } from '../helpers/graphql';

let app: TestApp;
let alice: TestUser;

beforeAll(async () => {
  app = await startTestApp();
  alice = await app.createUser({ name: 'alice', credits: 250 });
});
afterAll(() => app?.close());

const VIEWER = '{ viewer { id name isAdmin credits } }';

describe('HTTP authentication', () => {
  it('answers the viewer for a valid key', async () => {
    const res = await gql(app.url, alice.key, VIEWER);
    expect(res.status).toBe(200);
    expect(res.body.data.viewer).toEqual({ id: alice.id, name: 'alice', isAdmin: false, credits: 250 });
  });

  it('refuses a request without a key with 401 UNAUTHENTICATED', async () => {
    const res = await gql(app.url, null, VIEWER);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.data ?? null).toBeNull();
    // "Bearer" with nothing after it is no key either, not a wrong one.
    const empty = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { authorization: 'Bearer ', 'content-type': 'application/json' },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect([empty.status, (await empty.json()).errors?.[0].extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('refuses an unknown key with 401 INVALID_API_KEY', async () => {
    const res = await gql(app.url, 'vq_thisKeyDoesNotExist000000000000', VIEWER);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('INVALID_API_KEY');
  });

  it('refuses a key that is not even shaped like one with INVALID_API_KEY', async () => {
    const res = await gql(app.url, 'hello', VIEWER);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('INVALID_API_KEY');
  });

  it('refuses a revoked key on the very next request', async () => {
    const bob = await app.createUser({ name: 'bob' });
    expect((await gql(app.url, bob.key, VIEWER)).status).toBe(200);
    expect(await revokeApiKey(app.services.database.db, bob.keyId)).toBe(true);
    const res = await gql(app.url, bob.key, VIEWER);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('INVALID_API_KEY');
  });

  it('stores keys hashed, never in clear', async () => {
    const rows = await app.services.database.sql`select key_hash, prefix from api_keys where id = ${alice.keyId}`;
    expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].key_hash).not.toContain(alice.key);
    expect(alice.key.startsWith(rows[0].prefix)).toBe(true);
  });

  it('lets a user revoke their own key through the API but not somebody else’s', async () => {
    const carol = await app.createUser({ name: 'carol' });
    const other = await app.createUser({ name: 'dave' });
    const created = await gql(app.url, carol.key, 'mutation { createApiKey(name: "ci") { ... on CreateApiKeySuccess { apiKey { id key prefix } } } }');
    const second = created.body.data.createApiKey.apiKey;
    expect(second.key.startsWith(second.prefix)).toBe(true);
    expect((await gql(app.url, other.key, `mutation { revokeApiKey(id: "${second.id}") }`)).body.data.revokeApiKey).toBe(false);
    expect((await gql(app.url, second.key, VIEWER)).status).toBe(200);
    expect((await gql(app.url, carol.key, `mutation { revokeApiKey(id: "${second.id}") }`)).body.data.revokeApiKey).toBe(true);
    expect((await gql(app.url, second.key, VIEWER)).status).toBe(401);

    // Her keys as she and an admin list them: newest first, the revoked one marked, never a key.
    const KEYS = '{ id prefix name createdAt lastUsedAt revokedAt }';
    const listed = (await gql(app.url, carol.key, `{ viewer { apiKeys ${KEYS} } }`)).body.data.viewer.apiKeys;
    expect(listed.map((k: { id: string; name: string | null; revokedAt: string | null }) => [k.id, k.name, k.revokedAt !== null])).toEqual([
      [second.id, 'ci', true],
      [carol.keyId, null, false],
    ]);
    expect(listed[0].prefix).toBe(second.prefix);
    expect(listed[1].lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(second.key);
    const admin = await app.createUser({ name: 'root', admin: true });
    const users = (await gql(app.url, admin.key, `{ users(first: 100) { ... on UserConnection { nodes { id apiKeys { id } } } } }`)).body.data.users.nodes;
    expect(users.find((u: { id: string }) => u.id === carol.id).apiKeys).toEqual([{ id: second.id }, { id: carol.keyId }]);
  });
});

describe('WebSocket authentication', () => {
  it('runs operations for a valid key given in connection_init', async () => {
    const client = wsClient(app.url, alice.key);
    const { done } = wsCollect(client, VIEWER);
    const results = await done;
    expect(results[0].data.viewer.id).toBe(alice.id);
    await client.dispose();
  });

  it('takes the key under connectionParams.Authorization too, spelled as the HTTP header', async () => {
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${alice.key}` },
      retryAttempts: 0,
    });
    const results = await wsCollect(client, VIEWER).done;
    expect(results[0].data.viewer.id).toBe(alice.id);
    await client.dispose();
  });

  async function refusal(key: string | null) {
    let closed = { code: 0, reason: '' };
    const client = wsClient(app.url, key, { onClose: (code, reason) => (closed = { code, reason }) });
    await expect(wsCollect(client, VIEWER).done).rejects.toBeDefined();
    await client.dispose();
    return closed;
  }

  it('closes the socket with 4403 when connection_init carries no key, saying what to send', async () => {
    expect(await refusal(null)).toEqual({ code: 4403, reason: 'Forbidden: no API key. Send connectionParams { authorization: "Bearer vq_…" }' });
  });

  it('closes the socket with 4403 for an unknown key, saying so', async () => {
    expect(await refusal('vq_unknownunknownunknown')).toEqual({ code: 4403, reason: 'Forbidden: unknown API key (mistyped, or never issued).' });
  });

  it('closes the socket with 4403 for a revoked key, or one whose user is disabled, saying which', async () => {
    const frank = await app.createUser({ name: 'frank' });
    await revokeApiKey(app.services.database.db, frank.keyId);
    expect(await refusal(frank.key)).toEqual({ code: 4403, reason: 'Forbidden: this API key was revoked. Create a new one.' });
    const gina = await app.createUser({ name: 'gina' });
    await app.services.database.sql`update users set disabled_at = now() where id = ${gina.id}`;
    expect(await refusal(gina.key)).toEqual({ code: 4403, reason: 'Forbidden: the user of this API key is disabled.' });
  });

  it('fails at once, without graphql-ws’s retries, for a client whose shouldRetry skips 4403 (as the README shows)', async () => {
    let connecting = 0;
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: 'Bearer vq_unknownunknownunknown' },
      shouldRetry: (event) => !(event as CloseEvent | undefined)?.code || (event as CloseEvent).code !== 4403,
      on: { connecting: () => connecting++ },
    });
    await expect(wsCollect(client, VIEWER).done).rejects.toMatchObject({ code: 4403, reason: 'Forbidden: unknown API key (mistyped, or never issued).' });
    expect(connecting).toBe(1);
    await client.dispose();
  });

  it('closes an open socket with 4403 at its next operation once the key is revoked', async () => {
    const erin = await app.createUser({ name: 'erin' });
    let code = 0;
    const client = wsClient(app.url, erin.key, { onClose: (c) => (code = c) });
    const first = await wsCollect(client, VIEWER).done;
    expect(first[0].data.viewer.id).toBe(erin.id);
    await revokeApiKey(app.services.database.db, erin.keyId);
    await expect(wsCollect(client, VIEWER).done).rejects.toBeDefined();
    expect(code).toBe(4403);
    await client.dispose();
  });
});
