// Running a multi-user deployment without a shell: admins create users and their keys, list users,
// revoke keys and top up credits over GraphQL (non-admins get ForbiddenError); every credit movement is
// a ledger row the user can read; a top-up unblocks a job refused for lack of credits; the CLI adds
// credits too.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
let app: TestApp;
let admin: TestUser;
let user: TestUser;

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename
  ... on CreateUserSuccess { user { id name isAdmin credits } } ... on Error { code message } ... on InvalidInputError { fieldErrors { path message } } } }`;
const CREATE_KEY = `mutation($userId: ID) { createApiKey(name: "ops", userId: $userId) { __typename ... on CreateApiKeySuccess { apiKey { id key } } ... on Error { code message } } }`;
const GRANT = `mutation($userId: ID!, $amount: Int!, $reason: String!) { grantCredits(userId: $userId, amount: $amount, reason: $reason) { __typename
  ... on GrantCreditsSuccess { entry { kind amount balanceAfter note jobId } } ... on Error { code message } ... on InvalidInputError { fieldErrors { path message } } } }`;
const LEDGER = `query($first: Int, $after: String) { viewer { credits creditLedger(first: $first, after: $after) { __typename
  ... on CreditLedgerConnection { nodes { kind amount balanceAfter jobId note } pageInfo { hasNextPage endCursor } } ... on Error { code } } } }`;

beforeAll(async () => {
  app = await startTestApp({ env: { JOB_STAGES: 'probe' } });
  admin = await app.createUser({ name: 'root', admin: true, credits: 0 });
  user = await app.createUser({ name: 'ann', credits: 1 }); // PRO costs 4 per started minute
});
afterAll(() => app?.close());

describe('admin operations over GraphQL', () => {
  it('are refused to non-admins with ForbiddenError', async () => {
    expect((await gql(app.url, user.key, CREATE_USER, { input: { name: 'x' } })).body.data.createUser).toMatchObject({
      __typename: 'ForbiddenError',
      code: 'FORBIDDEN',
    });
    expect((await gql(app.url, user.key, GRANT, { userId: user.id, amount: 100, reason: 'me' })).body.data.grantCredits.__typename).toBe('ForbiddenError');
    expect((await gql(app.url, user.key, CREATE_KEY, { userId: admin.id })).body.data.createApiKey.__typename).toBe('ForbiddenError');
    expect((await gql(app.url, user.key, '{ users { __typename } }')).body.data.users.__typename).toBe('ForbiddenError');
  });

  it('let an admin create a user, give them a key, list users, and revoke the key', async () => {
    const created = (await gql(app.url, admin.key, CREATE_USER, { input: { name: ' Bea ', credits: 7 } })).body.data.createUser;
    expect(created).toMatchObject({ __typename: 'CreateUserSuccess', user: { name: 'Bea', isAdmin: false, credits: 7 } });
    const bea = created.user.id as string;
    const key = (await gql(app.url, admin.key, CREATE_KEY, { userId: bea })).body.data.createApiKey.apiKey;
    expect((await gql(app.url, key.key, '{ viewer { id name } }')).body.data.viewer).toEqual({ id: bea, name: 'Bea' });
    const users = (await gql(app.url, admin.key, '{ users(first: 100) { ... on UserConnection { nodes { id } } } }')).body.data.users.nodes.map(
      (u: { id: string }) => u.id,
    );
    expect(users).toEqual(expect.arrayContaining([bea, user.id, admin.id]));
    expect(users[0]).toBe(bea); // newest first
    expect((await gql(app.url, admin.key, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: key.id })).body.data.revokeApiKey).toBe(true);
    expect((await gql(app.url, key.key, '{ viewer { id } }')).status).toBe(401);

    const bad = (await gql(app.url, admin.key, CREATE_USER, { input: { name: '  ', credits: -1 } })).body.data.createUser;
    expect(bad.fieldErrors.map((f: { path: string[] }) => f.path.join('.'))).toEqual(['input.name', 'input.credits']);
    expect((await gql(app.url, admin.key, CREATE_KEY, { userId: 'usr_nosuchuser' })).body.data.createApiKey.__typename).toBe('InvalidInputError');
  });
});

describe('credits', () => {
  it('a top-up unblocks a job refused for lack of credits, and the ledger explains the balance', async () => {
    const clip = await makeVideo(app.dataDir, { format: 'mp4', seconds: 1, name: 'credits' });
    const video = await seedVideo(app, user.id, clip);
    const submit = () =>
      gql(
        app.url,
        user.key,
        'mutation($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on SubmitJobSuccess { job { id costCredits } } ... on InsufficientCreditsError { required available } } }',
        {
          input: { videoId: video.id, model: 'PRO' },
        },
      );
    const refused = (await submit()).body.data.submitJob;
    expect(refused.__typename).toBe('InsufficientCreditsError');
    const needed = refused.required - refused.available;

    const granted = (await gql(app.url, admin.key, GRANT, { userId: user.id, amount: needed, reason: 'invoice 2026-118' })).body.data.grantCredits;
    expect(granted).toMatchObject({
      __typename: 'GrantCreditsSuccess',
      entry: { kind: 'GRANT', amount: needed, balanceAfter: refused.required, note: `invoice 2026-118 (granted by ${admin.id})`, jobId: null },
    });

    const accepted = (await submit()).body.data.submitJob;
    expect(accepted.__typename).toBe('SubmitJobSuccess');
    expect(accepted.job.costCredits).toBe(refused.required); // a job shows what it costs
    await waitForStatus(app, accepted.job.id, ['COMPLETED']);

    const ledger = (await gql(app.url, user.key, LEDGER)).body.data.viewer;
    expect(ledger.credits).toBe(0);
    expect(ledger.creditLedger.nodes.map((e: { kind: string; amount: number; jobId: string | null }) => [e.kind, e.amount, e.jobId])).toEqual([
      ['CHARGE', 0, accepted.job.id],
      ['RESERVE', -refused.required, accepted.job.id],
      ['GRANT', needed, null],
      ['GRANT', 1, null], // the initial credits
    ]);
    // Paginated: two at a time, the cursor continues where the first page ended.
    const first = (await gql(app.url, user.key, LEDGER, { first: 2 })).body.data.viewer.creditLedger;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await gql(app.url, user.key, LEDGER, { first: 2, after: first.pageInfo.endCursor })).body.data.viewer.creditLedger;
    expect([...first.nodes, ...second.nodes].map((e: { kind: string }) => e.kind)).toEqual(['CHARGE', 'RESERVE', 'GRANT', 'GRANT']);

    const invalid = (await gql(app.url, admin.key, GRANT, { userId: user.id, amount: 0, reason: '' })).body.data.grantCredits;
    expect(invalid.fieldErrors.map((f: { path: string[] }) => f.path.join('.'))).toEqual(['amount', 'reason']);
  });

  it('`npx vidq credits add` tops up from the shell, with a ledger row', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: app.database.url, DATA_DIR: app.dataDir };
    const { stdout } = await run(process.execPath, ['bin/vidq.js', 'credits', 'add', user.id, '40', '--reason', 'support ticket 9', '--json'], {
      cwd: ROOT,
      env,
    });
    expect(JSON.parse(stdout)).toMatchObject({ userId: user.id, added: 40, credits: 40 }); // 0 after the job
    const ledger = (await gql(app.url, user.key, LEDGER, { first: 1 })).body.data.viewer.creditLedger.nodes[0];
    expect(ledger).toMatchObject({ kind: 'GRANT', amount: 40, note: 'support ticket 9 (granted by cli)' });
    const bad = await run(process.execPath, ['bin/vidq.js', 'credits', 'add', 'usr_nosuchuser', '5'], { cwd: ROOT, env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad).toMatchObject({ code: 1, stderr: "No user with id 'usr_nosuchuser' exists.\n" });
  });
});
