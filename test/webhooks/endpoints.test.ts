// Webhook endpoints through the public API: creation with its one-time secret, listing, changes,
// enable/disable, deletion, who may see what, and the URL guard at registration and at connect time.
import { publicDeliveryId } from '../../src/webhooks/delivery-id';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/db/ids';
import { webhookEndpoints } from '../../src/db/schema/index';
import { generateWebhookSecret } from '../../src/webhooks/signing';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitFor } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import { attemptLog, CREATE_ENDPOINT, createEndpoint, emitTerminalEvent, FAST_WEBHOOKS, signatureValid, viewerSecret, waitForDelivery } from './helpers';

let app: TestApp;
let strict: TestApp;
let hook: Receiver;
let mediaDir: string;
let clip: string;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  hook = await startReceiver({ status: 200 });
  app = await startTestApp({ env: { ...FAST_WEBHOOKS, JOB_STAGES: 'probe' } });
  strict = await startTestApp({ env: { ...FAST_WEBHOOKS, WEBHOOK_ALLOW_PRIVATE_URLS: 'false', WEBHOOK_MAX_RETRIES: '0', JOB_STAGES: 'probe' } });
});
afterAll(async () => {
  await strict?.close();
  await app?.close();
  await hook?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

const ENDPOINT = `query ($id: ID!) { webhookEndpoint(id: $id) {
  __typename
  ... on WebhookEndpoint { id url events description enabled disabledReason ownerId previousSecretExpiresAt circuit { state consecutiveFailures openedAt nextProbeAt } }
  ... on InvalidInputError { code message detail fieldErrors { path message } }
} }`;
const LIST = `query ($first: Int, $after: String, $ownerId: ID) { webhookEndpoints(first: $first, after: $after, ownerId: $ownerId) {
  __typename
  ... on WebhookEndpointConnection { nodes { id url } pageInfo { hasNextPage endCursor } }
  ... on Error { code detail }
} }`;
const UPDATE = `mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) {
  __typename
  ... on UpdateWebhookEndpointSuccess { endpoint { id url events description } }
  ... on InvalidInputError { code detail fieldErrors { path message } }
} }`;
const DISABLE = `mutation ($id: ID!, $reason: String) { disableWebhookEndpoint(id: $id, reason: $reason) {
  __typename ... on DisableWebhookEndpointSuccess { endpoint { enabled disabledReason } } ... on InvalidInputError { code detail }
} }`;
const ENABLE = `mutation ($id: ID!) { enableWebhookEndpoint(id: $id) {
  __typename ... on EnableWebhookEndpointSuccess { endpoint { enabled disabledReason circuit { state consecutiveFailures } } } ... on InvalidInputError { code detail }
} }`;
const DELETE = `mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) {
  __typename ... on DeleteWebhookEndpointSuccess { endpointId } ... on InvalidInputError { code detail }
} }`;
const ROTATE = `mutation ($id: ID!) { rotateWebhookSecret(endpointId: $id) { __typename ... on InvalidInputError { code detail } } }`;
const TEST = `mutation ($id: ID!) { sendTestWebhook(endpointId: $id) { __typename ... on InvalidInputError { code detail } } }`;

describe('createWebhookEndpoint', () => {
  it('returns the endpoint and its whsec_ signing secret, subscribed to all four job events unless told otherwise', async () => {
    const user = await app.createUser();
    const res = await gql(app.url, user.key, CREATE_ENDPOINT, { input: { url: `${hook.url}/a`, description: 'billing' } });
    const result = res.body.data.createWebhookEndpoint;
    expect(result.__typename).toBe('CreateWebhookEndpointSuccess');
    expect(result.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(result.endpoint).toMatchObject({
      id: expect.stringMatching(/^whe_/),
      url: `${hook.url}/a`,
      description: 'billing',
      enabled: true,
      events: ['job.completed', 'job.failed', 'job.timed_out', 'job.cancelled'],
      circuit: { state: 'CLOSED', consecutiveFailures: 0 },
    });
    const chosen = await createEndpoint(app, user, `${hook.url}/b`, { events: ['job.failed', 'job.timed_out', 'job.failed'] });
    expect(chosen.endpoint.events).toEqual(['job.failed', 'job.timed_out']);
    expect(chosen.secret).not.toBe(result.secret);
  });

  it('shows the secret only once: no query returns it afterwards', async () => {
    const res = await gql(app.url, (await app.createUser()).key, '{ __type(name: "WebhookEndpoint") { fields { name } } }');
    const fields = res.body.data.__type.fields.map((f: { name: string }) => f.name);
    expect(fields).not.toContain('secret');
    expect(fields).not.toContain('previousSecret');
  });

  it('refuses unknown event types, an empty list and a description over 500 characters, naming each field', async () => {
    const user = await app.createUser();
    const res = await gql(app.url, user.key, CREATE_ENDPOINT, {
      input: { url: hook.url, events: ['job.completed', 'video.uploaded'], description: 'x'.repeat(501) },
    });
    expect(res.body.data.createWebhookEndpoint).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', message: 'The request is invalid.' });
    const errors = res.body.data.createWebhookEndpoint.fieldErrors;
    expect(errors).toEqual([
      { path: ['input', 'events'], message: expect.stringContaining('unknown event type "video.uploaded"') },
      { path: ['input', 'description'], message: 'must be at most 500 characters' },
    ]);
    const empty = await gql(app.url, user.key, CREATE_ENDPOINT, { input: { url: hook.url, events: [] } });
    expect(empty.body.data.createWebhookEndpoint.fieldErrors).toEqual([
      { path: ['input', 'events'], message: expect.stringContaining('at least one event type') },
    ]);
    const list = await gql(app.url, user.key, LIST, {});
    expect(list.body.data.webhookEndpoints.nodes).toEqual([]);
  });

  it('refuses a URL over 2 KB, with credentials, or with port 0, for an endpoint and for a job, storing nothing', async () => {
    const user = await app.createUser();
    const target = new URL(hook.url);
    const bad = [`${hook.url}?${'p'.repeat(2100)}`, `http://user:pass@${target.host}${target.pathname}`, `http://${target.hostname}:0${target.pathname}`];
    for (const url of bad) {
      const res = await gql(app.url, user.key, CREATE_ENDPOINT, { input: { url } });
      expect(res.body.data.createWebhookEndpoint).toMatchObject({ __typename: 'InvalidInputError', fieldErrors: [{ path: ['input', 'url'] }] });
      const job = await gql(
        app.url,
        user.key,
        `mutation($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on InvalidInputError { fieldErrors { path } } } }`,
        {
          input: { videoId: 'vid_none', webhookUrl: url },
        },
      );
      expect(job.body.data.submitJob.fieldErrors).toContainEqual({ path: ['input', 'webhookUrl'] });
    }
    const list = await gql(app.url, user.key, LIST, {});
    expect(list.body.data.webhookEndpoints.nodes).toEqual([]);
  });

  it('lets an admin create one for another user, and answers ForbiddenError to a user who tries', async () => {
    const admin = await app.createUser({ admin: true });
    const user = await app.createUser();
    const other = await app.createUser();
    const made = await gql(app.url, admin.key, CREATE_ENDPOINT, { input: { url: hook.url, ownerId: user.id } });
    const id = made.body.data.createWebhookEndpoint.endpoint.id;
    expect((await gql(app.url, user.key, ENDPOINT, { id })).body.data.webhookEndpoint.ownerId).toBe(user.id);
    const refused = await gql(app.url, other.key, CREATE_ENDPOINT, { input: { url: hook.url, ownerId: user.id } });
    expect(refused.body.data.createWebhookEndpoint).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });
});

describe('listing and reading endpoints', () => {
  it("webhookEndpoints pages through the viewer's endpoints, newest first; an admin sees one owner's with ownerId", async () => {
    const user = await app.createUser();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await createEndpoint(app, user, `${hook.url}/${n}`)).id);
    await createEndpoint(app, await app.createUser(), `${hook.url}/someone-else`);

    const first = await gql(app.url, user.key, LIST, { first: 2 });
    const page1 = first.body.data.webhookEndpoints;
    expect(page1.nodes.map((n: { id: string }) => n.id)).toEqual([ids[2], ids[1]]);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await gql(app.url, user.key, LIST, { first: 2, after: page1.pageInfo.endCursor });
    expect(second.body.data.webhookEndpoints.nodes.map((n: { id: string }) => n.id)).toEqual([ids[0]]);
    expect(second.body.data.webhookEndpoints.pageInfo.hasNextPage).toBe(false);

    const admin = await app.createUser({ admin: true });
    const asAdmin = await gql(app.url, admin.key, LIST, { ownerId: user.id });
    expect(asAdmin.body.data.webhookEndpoints.nodes).toHaveLength(3);
    const nosy = await gql(app.url, (await app.createUser()).key, LIST, { ownerId: user.id });
    expect(nosy.body.data.webhookEndpoints).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const bad = await gql(app.url, user.key, LIST, { first: 0 });
    expect(bad.body.data.webhookEndpoints).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
  });

  it("answers another user's endpoint exactly as an unknown id, for every operation", async () => {
    const owner = await app.createUser();
    const stranger = await app.createUser();
    const { id } = await createEndpoint(app, owner, hook.url);
    const unknown = newId('whe');
    const answers = async (key: string, endpointId: string) => {
      const detail = (body: any) => JSON.stringify(body).replaceAll(endpointId, '<id>');
      return [
        detail((await gql(app.url, key, ENDPOINT, { id: endpointId })).body.data),
        detail((await gql(app.url, key, UPDATE, { input: { id: endpointId, description: 'mine now' } })).body.data),
        detail((await gql(app.url, key, DISABLE, { id: endpointId })).body.data),
        detail((await gql(app.url, key, ENABLE, { id: endpointId })).body.data),
        detail((await gql(app.url, key, ROTATE, { id: endpointId })).body.data),
        detail((await gql(app.url, key, TEST, { id: endpointId })).body.data),
        detail((await gql(app.url, key, DELETE, { id: endpointId })).body.data),
      ];
    };
    const forStranger = await answers(stranger.key, id);
    expect(forStranger).toEqual(await answers(stranger.key, unknown));
    expect(forStranger[0]).toContain("No webhook endpoint with id '<id>' exists.");
    expect(forStranger.every((a) => a.includes('INVALID_INPUT'))).toBe(true);
    // Nothing changed and nothing was sent.
    const mine = await gql(app.url, owner.key, ENDPOINT, { id });
    expect(mine.body.data.webhookEndpoint).toMatchObject({ id, enabled: true, description: null });
  });

  it('webhookDelivery answers a malformed or unknown id with InvalidInputError, not an internal error', async () => {
    const user = await app.createUser();
    for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
      const res = await gql(
        app.url,
        user.key,
        'query ($id: ID!) { webhookDelivery(id: $id) { __typename ... on InvalidInputError { fieldErrors { path message } } } }',
        { id },
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.webhookDelivery).toEqual({
        __typename: 'InvalidInputError',
        fieldErrors: [{ path: ['id'], message: `No webhook delivery with id '${id}' exists.` }],
      });
    }
  });

  it('WebhookEndpoint.deliveries pages through its deliveries, newest first, filtered by status', async () => {
    const user = await app.createUser();
    const { id } = await createEndpoint(app, user, hook.url);
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await emitTerminalEvent(app, user.id)).deliveries[0]);
    for (const d of sent) await waitForDelivery(app, d.id);
    const q = `query ($id: ID!, $after: String, $status: [WebhookDeliveryStatus!]) { webhookEndpoint(id: $id) { ... on WebhookEndpoint {
      deliveries(first: 2, after: $after, status: $status) { __typename ... on WebhookDeliveryConnection { nodes { id status attempts attemptsLog { number statusCode } } pageInfo { hasNextPage endCursor } } }
    } } }`;
    const page1 = (await gql(app.url, user.key, q, { id })).body.data.webhookEndpoint.deliveries;
    expect(page1.nodes.map((n: any) => n.id)).toEqual([publicDeliveryId(sent[2].id), publicDeliveryId(sent[1].id)]);
    expect(page1.nodes[0]).toMatchObject({ status: 'DELIVERED', attempts: 1, attemptsLog: [{ number: 1, statusCode: 200 }] });
    const page2 = (await gql(app.url, user.key, q, { id, after: page1.pageInfo.endCursor })).body.data.webhookEndpoint.deliveries;
    expect(page2.nodes.map((n: any) => n.id)).toEqual([publicDeliveryId(sent[0].id)]);
    const failed = (await gql(app.url, user.key, q, { id, status: ['FAILED'] })).body.data.webhookEndpoint.deliveries;
    expect(failed.nodes).toEqual([]);
  });
});

describe('changing endpoints', () => {
  it('updateWebhookEndpoint changes the URL, the events and the description, and leaves out what is not given', async () => {
    const user = await app.createUser();
    const { id } = await createEndpoint(app, user, `${hook.url}/old`, { description: 'first' });
    const res = await gql(app.url, user.key, UPDATE, { input: { id, url: `${hook.url}/new`, events: ['job.completed'] } });
    expect(res.body.data.updateWebhookEndpoint.endpoint).toEqual({ id, url: `${hook.url}/new`, events: ['job.completed'], description: 'first' });
    const cleared = await gql(app.url, user.key, UPDATE, { input: { id, description: '' } });
    expect(cleared.body.data.updateWebhookEndpoint.endpoint.description).toBeNull();
    const bad = await gql(app.url, user.key, UPDATE, { input: { id, url: 'ftp://example.com/', events: ['nope'] } });
    expect(bad.body.data.updateWebhookEndpoint.fieldErrors.map((f: any) => f.path.join('.'))).toEqual(['input.url', 'input.events']);

    const { deliveries } = await emitTerminalEvent(app, user.id);
    await waitForDelivery(app, deliveries[0].id);
    expect(hook.requests.at(-1)!.path).toBe('/new');
  });

  it('disableWebhookEndpoint stops deliveries with a reason; enableWebhookEndpoint resumes them with a closed circuit', async () => {
    const user = await app.createUser();
    const { id } = await createEndpoint(app, user, hook.url);
    const off = await gql(app.url, user.key, DISABLE, { id, reason: 'maintenance until Monday' });
    expect(off.body.data.disableWebhookEndpoint.endpoint).toEqual({ enabled: false, disabledReason: 'maintenance until Monday' });
    expect((await emitTerminalEvent(app, user.id)).deliveries).toEqual([]);

    await app.services.database.db
      .update(webhookEndpoints)
      .set({ circuitState: 'OPEN', consecutiveFailures: 7, nextProbeAt: new Date(Date.now() + 60_000) })
      .where(eq(webhookEndpoints.id, id));
    const on = await gql(app.url, user.key, ENABLE, { id });
    expect(on.body.data.enableWebhookEndpoint.endpoint).toEqual({ enabled: true, disabledReason: null, circuit: { state: 'CLOSED', consecutiveFailures: 0 } });
    const { deliveries } = await emitTerminalEvent(app, user.id);
    expect(await waitForDelivery(app, deliveries[0].id)).toMatchObject({ status: 'DELIVERED' });
  });

  it('deleteWebhookEndpoint removes it, ends its waiting deliveries as FAILED and keeps the finished ones', async () => {
    const user = await app.createUser();
    const { id } = await createEndpoint(app, user, hook.url);
    const done = (await emitTerminalEvent(app, user.id)).deliveries[0];
    await waitForDelivery(app, done.id);
    // A delivery held back by an open circuit is still PENDING.
    await app.services.database.db
      .update(webhookEndpoints)
      .set({ circuitState: 'OPEN', consecutiveFailures: 5, nextProbeAt: new Date(Date.now() + 600_000) })
      .where(eq(webhookEndpoints.id, id));
    const waiting = (await emitTerminalEvent(app, user.id)).deliveries[0];
    await waitForDelivery(app, waiting.id, ['PENDING']);

    const res = await gql(app.url, user.key, DELETE, { id });
    expect(res.body.data.deleteWebhookEndpoint).toEqual({ __typename: 'DeleteWebhookEndpointSuccess', endpointId: id });
    expect((await gql(app.url, user.key, ENDPOINT, { id })).body.data.webhookEndpoint.__typename).toBe('InvalidInputError');
    expect(await waitForDelivery(app, waiting.id)).toMatchObject({
      status: 'FAILED',
      errorCode: 'WEBHOOK_DELIVERY_FAILED',
      attempts: 0,
      lastError: expect.stringMatching(/endpoint was deleted/),
    });
    expect(await waitForDelivery(app, done.id)).toMatchObject({ status: 'DELIVERED', endpointId: null });
  });
});

describe('rotating a signing secret', () => {
  const ROTATED = `mutation ($id: ID!) { rotateWebhookSecret(endpointId: $id) {
    __typename ... on RotateWebhookSecretSuccess { secret endpoint { previousSecretExpiresAt } } ... on Error { code detail } } }`;
  const ROTATED_VIEWER = `mutation { rotateViewerWebhookSecret { secret previousSecretExpiresAt } }`;
  const rotate = async (user: TestUser, id: string) => {
    const r = (await gql(app.url, user.key, ROTATED, { id })).body.data.rotateWebhookSecret;
    expect(r.__typename).toBe('RotateWebhookSecretSuccess');
    return { secret: r.secret as string, expiresAt: r.endpoint.previousSecretExpiresAt as string };
  };
  const rotateViewer = async (user: TestUser) => {
    const r = (await gql(app.url, user.key, ROTATED_VIEWER)).body.data.rotateViewerWebhookSecret;
    return { secret: r.secret as string, expiresAt: r.previousSecretExpiresAt as string };
  };
  /** The request a delivery of a fresh terminal event made to `path` on the receiver. */
  const deliveredTo = async (user: TestUser, path: string, webhookUrl?: string) => {
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl });
    const row = await waitForDelivery(app, deliveries[0].id);
    expect(row.status).toBe('DELIVERED');
    return hook.requests.filter((r) => r.path === path && r.headers['webhook-id'] === row.eventId).at(-1)!;
  };
  const hoursLeft = (iso: string) => (new Date(iso).getTime() - Date.now()) / 3_600_000;
  /**
   * `count` rotations in flight at once, whatever the machine's speed: the test holds the row's lock
   * until every one of them waits on that row (at its read with the lock, at its write without it),
   * then lets them go.
   */
  const rotateTogether = async <T>(table: 'webhook_endpoints' | 'users', id: string, count: number, rotateOnce: () => Promise<T>) => {
    const sql = app.services.database.sql;
    let answers: Promise<T[]> | undefined;
    await sql.begin(async (tx) => {
      await tx`select 1 from ${tx(table)} where id = ${id} for update`;
      answers = Promise.all(Array.from({ length: count }, rotateOnce));
      await waitFor(`${count} rotations waiting on the ${table} row`, async () => {
        const [{ waiting }] = await sql`select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query like ${`%"${table}"%`}`;
        return waiting >= count;
      });
    });
    return answers!;
  };

  it('concurrent rotateWebhookSecret calls take turns: each answers a new secret, and the two latest both sign', async () => {
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, `${hook.url}/rotated-together`);
    const answers = await rotateTogether('webhook_endpoints', endpoint.id, 4, () => rotate(user, endpoint.id));
    expect(new Set(answers.map((a) => a.secret)).size).toBe(4);
    const req = await deliveredTo(user, '/rotated-together');
    // Taking turns, the last two are the current and the previous secret. Without the lock, all four read
    // the original as the one to keep: one of the four signed, beside the original.
    expect(answers.filter((a) => signatureValid(a.secret, req))).toHaveLength(2);
    expect(signatureValid(endpoint.secret, req)).toBe(false);
  });

  it('a second rotation within the overlap ends the oldest secret; the one it replaces signs beside it for 24 hours', async () => {
    const user = await app.createUser();
    const endpoint = await createEndpoint(app, user, `${hook.url}/rotated-twice`);
    const first = await rotate(user, endpoint.id);
    expect(hoursLeft(first.expiresAt)).toBeGreaterThan(23.9);
    const during = await deliveredTo(user, '/rotated-twice');
    expect(signatureValid(endpoint.secret, during)).toBe(true);
    expect(signatureValid(first.secret, during)).toBe(true);

    const next = await rotate(user, endpoint.id);
    expect(next.secret).not.toBe(first.secret);
    expect(hoursLeft(next.expiresAt)).toBeGreaterThan(23.9);
    const after = await deliveredTo(user, '/rotated-twice');
    expect(signatureValid(next.secret, after)).toBe(true);
    expect(signatureValid(first.secret, after)).toBe(true);
    expect(signatureValid(endpoint.secret, after)).toBe(false);
  });

  it("rotateViewerWebhookSecret takes turns the same way, for the secret of jobs' own webhookUrl", async () => {
    const user = await app.createUser();
    const original = await viewerSecret(app, user);
    const answers = await rotateTogether('users', user.id, 4, () => rotateViewer(user));
    expect(new Set(answers.map((a) => a.secret)).size).toBe(4);
    expect(answers.map((a) => a.secret)).toContain(await viewerSecret(app, user));
    const req = await deliveredTo(user, '/viewer-rotation', `${hook.url}/viewer-rotation`);
    expect(answers.filter((a) => signatureValid(a.secret, req))).toHaveLength(2);
    expect(signatureValid(original, req)).toBe(false);
  });
});

describe('with WEBHOOK_ALLOW_PRIVATE_URLS=false', () => {
  const REFUSED = [
    ['http://localhost:8080/hook', 'loopback name'],
    ['http://app.localhost/hook', 'loopback name'],
    ['http://127.0.0.1/hook', 'a loopback address'],
    ['http://2130706433/hook', 'a loopback address'],
    ['http://0x7f.1/hook', 'a loopback address'],
    ['http://[::1]/hook', 'a loopback address'],
    ['http://[::ffff:127.0.0.1]/hook', 'a loopback address'],
    ['http://10.1.2.3/hook', 'a private address'],
    ['http://172.16.0.1/hook', 'a private address'],
    ['http://192.168.1.10/hook', 'a private address'],
    ['http://100.64.0.1/hook', 'a CGNAT address'],
    ['http://169.254.169.254/latest/meta-data/', 'a cloud-metadata address'],
    ['http://[fd00:ec2::254]/hook', 'a cloud-metadata address'],
    ['http://169.254.1.1/hook', 'a link-local address'],
    ['http://[fe80::1]/hook', 'a link-local address'],
    ['http://[fc00::1]/hook', 'a unique-local address'],
    ['http://0.0.0.0/hook', 'an unspecified address'],
    ['http://224.0.0.1/hook', 'a multicast address'],
    ['ftp://example.com/hook', 'must start with https:// or http://'],
    ['file:///etc/passwd', 'must start with https:// or http://'],
    ['javascript:alert(1)', 'must start with https:// or http://'],
    ['not a url', 'is not a valid URL'],
  ] as const;

  let user: TestUser;
  let endpointId: string;
  let videoId: string;
  beforeAll(async () => {
    user = await strict.createUser({ credits: 100 });
    // An endpoint to try updates on (subscribed to an event these tests never emit).
    const [row] = await strict.services.database.db
      .insert(webhookEndpoints)
      .values({ id: newId('whe'), ownerId: user.id, url: 'https://example.com/hook', events: ['job.cancelled'], secret: generateWebhookSecret() })
      .returning();
    endpointId = row.id;
    videoId = (await seedVideo(strict, user.id, clip)).id;
  });

  it.each(REFUSED)('createWebhookEndpoint, updateWebhookEndpoint and submitJob refuse %s (%s)', async (url, why) => {
    const created = await gql(strict.url, user.key, CREATE_ENDPOINT, { input: { url } });
    expect(created.body.data.createWebhookEndpoint).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(created.body.data.createWebhookEndpoint.fieldErrors).toEqual([{ path: ['input', 'url'], message: expect.stringContaining(why) }]);

    const updated = await gql(strict.url, user.key, UPDATE, { input: { id: endpointId, url } });
    expect(updated.body.data.updateWebhookEndpoint.fieldErrors).toEqual([{ path: ['input', 'url'], message: expect.stringContaining(why) }]);

    const submitted = await gql(strict.url, user.key, SUBMIT, { input: { videoId, webhookUrl: url } });
    expect(submitted.body.data.submitJob).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(submitted.body.data.submitJob.fieldErrors).toEqual([{ path: ['input', 'webhookUrl'], message: expect.stringContaining(why) }]);
  });

  it('refuses at connect time a private address that got past registration, and sends nothing', async () => {
    const port = new URL(hook.url).port;
    const before = hook.requests.length;
    const byIp = await emitTerminalEvent(strict, user.id, { webhookUrl: `http://127.0.0.1:${port}/sneaky` });
    const byName = await emitTerminalEvent(strict, user.id, { webhookUrl: `http://localhost:${port}/sneaky` });
    for (const { deliveries } of [byIp, byName]) {
      const row = await waitForDelivery(strict, deliveries[0].id);
      expect(row).toMatchObject({ status: 'FAILED', errorCode: 'WEBHOOK_DELIVERY_FAILED', attempts: 1, lastStatusCode: null });
      const [attempt] = await attemptLog(strict, row.id);
      expect(attempt.error).toMatch(/^refused to connect: .*(127\.0\.0\.1 is a loopback address|loopback name)/);
    }
    expect(hook.requests.length).toBe(before);
  });
});
