// A failing statement is logged at error level with its SQL, but never with the values bound to it:
// those are a fresh webhook secret, an API key's hash, whatever a user typed. Each failing path is
// provoked against a real `vidq serve` process (the database refuses the write), and its whole log is
// searched for secrets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { freePort } from '../helpers/pg-urls';
import { killAllVidq, spawnVidq, untilServing, type VidqProcess } from '../helpers/processes';

let app: TestApp;
let alice: TestUser;
let api: VidqProcess;
let url: string;

beforeAll(async () => {
  app = await startTestApp({ env: { ROLE: 'worker' } });
  alice = await app.createUser({ name: 'alice' });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = spawnVidq(['serve', '--role', 'api'], {
    DATABASE_URL: app.database.url,
    DATA_DIR: app.dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  });
  await untilServing(api, url);
  // The database refuses these writes, as it might on a full disk or a broken constraint.
  const sql = app.services.database.sql;
  await sql`alter table webhook_endpoints add constraint refuse_all check (false) not valid`;
  await sql`alter table api_keys add constraint refuse_all check (false) not valid`;
  await sql`alter table users add constraint refuse_secret check (webhook_secret is null or webhook_secret not like 'whsec_%') not valid`;
});
afterAll(async () => {
  await killAllVidq();
  await app?.close();
});

describe('the log of a statement that failed', () => {
  it('keeps the statement and the error but none of its values: no webhook secret, no key hash, no user input', async () => {
    const created = await gql(
      url,
      alice.key,
      `mutation { createWebhookEndpoint(input: { url: "http://127.0.0.1:9/hook", description: "private note 4f1c" }) { __typename } }`,
    );
    expect(created.body.errors![0]!.extensions!.code).toBe('INTERNAL_ERROR');
    const key = await gql(url, alice.key, `mutation { createApiKey(name: "label 77ab") { ... on CreateApiKeySuccess { apiKey { key } } } }`);
    expect(key.body.errors![0]!.extensions!.code).toBe('INTERNAL_ERROR');
    const rotated = await gql(url, alice.key, `mutation { rotateViewerWebhookSecret { __typename } }`);
    expect(rotated.body.errors![0]!.extensions!.code).toBe('INTERNAL_ERROR');

    await expect
      .poll(
        () =>
          api
            .output()
            .split('\n')
            .filter((l) => l.includes('"level":50')).length,
        { timeout: 5000 },
      )
      .toBeGreaterThanOrEqual(3);
    const log = api.output();
    expect(log).toMatch(/insert into \\"webhook_endpoints\\"/); // the statement is there…
    expect(log).toMatch(/refuse_all/); // …and the reason
    expect(log).not.toMatch(/whsec_/);
    expect(log).not.toMatch(/\b[0-9a-f]{64}\b/); // a SHA-256 key hash
    expect(log).not.toMatch(/private note 4f1c|label 77ab/);
    expect(log).not.toContain(alice.key);
  });
});

describe('a client’s mistakes', () => {
  it('are not logged as errors: a bad variable is answered INVALID_INPUT, and the log has no error line for it', async () => {
    const errorLines = () =>
      api
        .output()
        .split('\n')
        .filter((l) => l.includes('"level":50'));
    const bad = await gql(url, alice.key, `mutation ($m: ProcessingModel) { submitJob(input: { videoId: "vid_x", model: $m }) { __typename } }`, {
      m: 'TURBO_4e2a',
    });
    expect(bad.body.errors![0]!.extensions!.code).toBe('INVALID_INPUT');
    const typed = await gql(url, alice.key, `query ($n: Int) { jobs(first: $n) { __typename } }`, { n: 'ten_4e2a' });
    expect(typed.body.errors![0]!.extensions!.code).toBe('INVALID_INPUT');
    // Lines are written in order: once a later failure's error line is out, the mistakes' would be too.
    const before = errorLines().length;
    await gql(url, alice.key, `mutation { createApiKey(name: "after the mistakes") { __typename } }`);
    await expect.poll(() => errorLines().length, { timeout: 5000 }).toBeGreaterThan(before);
    expect(errorLines().filter((l) => l.includes('4e2a'))).toEqual([]);
    // The failure after them is logged once, by vidq, not a second time by Yoga.
    expect(errorLines().filter((l) => l.includes('graphql-yoga reported an error'))).toEqual([]);
  });
});
