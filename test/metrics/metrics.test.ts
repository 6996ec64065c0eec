// GET /metrics: who may scrape it, and every metric family moving when its event happens (a scrape
// before and after). One app serves the `default` pipeline and the test stages of
// test/pipeline/fixtures/stages but not `exits`, whose jobs therefore wait in the queue.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql, wsClient } from '../helpers/graphql';
import { seedVideo, waitFor, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { buildSchema, parse } from 'graphql';
import { KNOWN_OPERATION_NAMES, MAX_CLIENT_OPERATION_NAMES, operationLabel, OTHER_OPERATION } from '../../src/metrics/graphql-plugin';
import { freePort } from '../helpers/pg-urls';
import { killAllVidq, spawnVidq, untilServing } from '../helpers/processes';
import { upload } from '../helpers/upload';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

const PIPELINES_FILE = path.resolve(import.meta.dirname, '../pipeline/fixtures/stages/pipelines.json');
const TOKEN = 'prometheus-scrape-token-0123456789';
let app: TestApp;
let admin: TestUser;
let user: TestUser;
let dir: string;
let clip: string;
let receiver: Receiver;

type Samples = Map<string, number>;

/** Scrapes /metrics into "name{labels}" → value. */
async function scrape(url = app.url, token = TOKEN): Promise<Samples> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const samples: Samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}
const value = (samples: Samples, series: string) => samples.get(series) ?? 0;

async function submit(pipeline: string, extra: Record<string, unknown> = {}) {
  const video = await seedVideo(app, user.id, clip);
  const res = await gql(
    app.url,
    user.key,
    'mutation($input: SubmitJobInput!) { submitJob(input: $input) { ... on SubmitJobSuccess { job { id } } ... on Error { code message } } }',
    {
      input: { videoId: video.id, pipeline, ...extra },
    },
  );
  return res.body.data.submitJob.job.id as string;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-metrics-'));
  process.env.FLAKY_DIR = dir;
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({
    env: {
      METRICS_TOKEN: TOKEN,
      PIPELINES_FILE,
      JOB_STAGES: 'probe',
      WORKER_PIPELINES: 'default,flaky',
      JOB_RETRY_DELAY_SECONDS: '1',
      WEBHOOK_MAX_RETRIES: '0',
      WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '1',
    },
  });
  admin = await app.createUser({ name: 'admin', admin: true });
  user = await app.createUser({ credits: 1000 });
  clip = await makeVideo(dir, { format: 'mp4', seconds: 1, name: 'clip' });
  receiver = await startReceiver();
});
afterAll(async () => {
  await killAllVidq();
  await receiver?.close();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  it('answers METRICS_TOKEN and admins’ keys, and 401 to anyone else, saying so to a key that is not an admin’s', async () => {
    const status = async (authorization?: string) => (await fetch(`${app.url}/metrics`, { headers: authorization ? { authorization } : {} })).status;
    expect(await status()).toBe(401);
    expect(await status(`Bearer ${TOKEN}x`)).toBe(401);
    expect(await status('Bearer vq_unknown')).toBe(401);
    const notAdmin = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${user.key}` } });
    expect(notAdmin.status).toBe(401); // API.md: 401 for anything but the token or an admin's key
    expect(await notAdmin.text()).toBe("This API key is not an admin's: /metrics takes an admin's key or METRICS_TOKEN.\n");
    expect(await status(`Bearer ${TOKEN}`)).toBe(200);
    expect(await status(`Bearer ${admin.key}`)).toBe(200);
    const text = await (await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(text).toContain('# TYPE vidq_jobs_total counter');
    expect(text).toContain('process_cpu_user_seconds_total'); // prom-client's default metrics
    expect(text).not.toMatch(/(job|vid|usr|key)_[a-z0-9]{20}/); // never an id in a label
  });

  it('counts GraphQL operations by name (the root field when they have none), and times them', async () => {
    const before = await scrape();
    const delta = (after: Samples, series: string) => value(after, series) - value(before, series);
    await gql(app.url, user.key, 'query Viewer { viewer { id } }');
    await gql(app.url, user.key, '{ pricing { models { model } } }');
    await gql(app.url, user.key, 'query Job($id: ID!) { job(id: $id) { __typename } }', { id: 'job_unknown' }); // the SDK's
    await gql(app.url, user.key, '{ me: viewer { id } }'); // the field's name, never the alias
    const after = await scrape();
    expect(delta(after, 'vidq_graphql_requests_total{operation="Viewer"}')).toBe(1);
    expect(delta(after, 'vidq_graphql_requests_total{operation="viewer"}')).toBe(1);
    expect(delta(after, 'vidq_graphql_requests_total{operation="pricing"}')).toBe(1);
    expect(delta(after, 'vidq_graphql_requests_total{operation="Job"}')).toBe(1);
    expect(after.has('vidq_graphql_requests_total{operation="me"}')).toBe(false);
    expect(delta(after, 'vidq_graphql_request_duration_seconds_count{operation="Viewer"}')).toBe(1);
  });

  it('adds a bounded number of series for operation names a client makes up', async () => {
    const named = (samples: Samples) => [...samples.keys()].filter((key) => key.startsWith('vidq_graphql_requests_total{operation="Made_Up_'));
    const before = await scrape();
    const sent = MAX_CLIENT_OPERATION_NAMES + 20;
    for (let i = 0; i < sent; i++) {
      const res = await gql(app.url, user.key, `query Made_Up_${i}_${Math.random().toString(36).slice(2)} { viewer { id } }`);
      expect(res.body.data.viewer.id).toBe(user.id);
    }
    // Validated documents only reach the counter, so a field that does not exist makes no series either.
    expect((await gql(app.url, user.key, 'query Q { noSuchField }')).body.errors).toBeDefined();
    const after = await scrape();
    // Names other tests of this file sent count against the same bound: fewer than the maximum are new.
    const kept = named(after).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(MAX_CLIENT_OPERATION_NAMES);
    expect(value(after, 'vidq_graphql_requests_total{operation="viewer"}') - value(before, 'vidq_graphql_requests_total{operation="viewer"}')).toBe(
      sent - kept,
    );
    expect(named(before)).toEqual([]);
  });

  it('labels a document by its name while names are under the bound, else by a root field the schema knows, else `other`', () => {
    const schema = buildSchema('type Query { viewer: String } type Mutation { submitJob: String }');
    const full = new Set(Array.from({ length: MAX_CLIENT_OPERATION_NAMES }, (_, i) => `Seen${i}`));
    const label = (source: string, names = full) => operationLabel(schema, parse(source), undefined, names);
    expect(label('query Mine { viewer }', new Set())).toBe('Mine');
    expect(label('query Seen3 { viewer }')).toBe('Seen3');
    expect(label('query Mine { viewer }')).toBe('viewer');
    expect(label('mutation { ...F } fragment F on Mutation { submitJob }')).toBe('submitJob');
    expect(label('query Mine { ... on Query { viewer } }')).toBe('viewer');
    expect(label('query SubmitJob { viewer }')).toBe('SubmitJob');
    expect(label('query Mine { madeUp }')).toBe(OTHER_OPERATION);
    expect(label('subscription Mine { viewer }')).toBe(OTHER_OPERATION); // no Subscription type
    expect(label('query A { viewer } query B { viewer }', new Set())).toBe(OTHER_OPERATION); // which one is not said
    expect(label('query Q { __typename }')).toBe('__typename');
  });

  it('labels with every operation name the SDK and the REST mapping send, and no other name', async () => {
    const names = async (file: string, pattern: RegExp) => {
      const source = await fs.readFile(path.resolve(import.meta.dirname, '../..', file), 'utf8');
      return [...source.matchAll(pattern)].map(([, name]) => name);
    };
    const sdk = await names('clients/sdk/src/operations.ts', /^\s*(?:query|mutation|subscription) ([A-Za-z_][A-Za-z0-9_]*)/gm);
    const rest = await names('src/rest/operations.ts', /`(?:query|mutation) (Rest[A-Za-z0-9_]*)/g);
    expect(sdk.length).toBeGreaterThan(0);
    expect(rest.length).toBeGreaterThan(0);
    expect([...KNOWN_OPERATION_NAMES].sort()).toEqual([...new Set([...sdk, ...rest])].sort());
  });

  it('counts uploads by result and the bytes of the videos made', async () => {
    const before = await scrape();
    const ok = await upload(app, user.key, { file: clip });
    expect(ok.body.data.uploadVideo.__typename).toBe('UploadVideoSuccess');
    const text = path.join(dir, 'notes.txt');
    await fs.writeFile(text, 'not a video');
    await upload(app, user.key, { file: text });
    // tus refusals at creation count alike: one too large, one not a video.
    for (const [length, filename] of [
      [String(10 ** 15), 'huge.mp4'],
      ['100', 'notes.txt'],
    ]) {
      const refused = await fetch(`${app.url}/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.key}`, 'tus-resumable': '1.0.0', 'upload-length': length, 'upload-metadata': `filename ${btoa(filename)}` },
      });
      expect(refused.status).toBe(filename === 'huge.mp4' ? 413 : 415);
    }
    const after = await scrape();
    expect(value(after, 'vidq_uploads_total{result="success"}') - value(before, 'vidq_uploads_total{result="success"}')).toBe(1);
    expect(value(after, 'vidq_uploads_total{result="UNSUPPORTED_FORMAT"}') - value(before, 'vidq_uploads_total{result="UNSUPPORTED_FORMAT"}')).toBe(2);
    expect(value(after, 'vidq_uploads_total{result="FILE_TOO_LARGE"}') - value(before, 'vidq_uploads_total{result="FILE_TOO_LARGE"}')).toBe(1);
    expect(value(after, 'vidq_upload_bytes_total') - value(before, 'vidq_upload_bytes_total')).toBe((await fs.stat(clip)).size);
  });

  it('counts finished jobs by pipeline and status, stage durations, retries, and webhook deliveries', async () => {
    const before = await scrape();
    const completed = await submit('default', { webhookUrl: `${receiver.url}/ok` });
    const flaky = await submit('flaky', { stageOptions: { flaky: { how: 'exit75' } } });
    for (const id of [completed, flaky]) expect((await waitForStatus(app, id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
    await receiver.waitFor(1);
    await waitFor(
      'the delivery to be recorded',
      async () => (await app.services.database.sql`select 1 from webhook_deliveries where job_id = ${completed} and status = 'DELIVERED'`).length > 0,
    );
    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('vidq_jobs_total{pipeline="default",status="COMPLETED"}')).toBe(1);
    expect(delta('vidq_jobs_total{pipeline="flaky",status="COMPLETED"}')).toBe(1);
    expect(delta('vidq_stage_duration_seconds_count{stage="probe",status="COMPLETED"}')).toBe(1);
    expect(delta('vidq_stage_duration_seconds_count{stage="flaky",status="FAILED"}')).toBe(1);
    expect(delta('vidq_job_retries_total{stage="flaky",code="SERVICE_UNAVAILABLE"}')).toBe(1);
    expect(delta('vidq_webhook_deliveries_total{result="DELIVERED"}')).toBe(1);
    expect(delta('vidq_webhook_delivery_seconds_count')).toBe(1);
  });

  it('reports failed deliveries, and a webhookUrl circuit as open while a delivery waits behind it', async () => {
    receiver.setBehaviour({ status: 500 });
    const url = `${receiver.url}/broken`;
    const delivered = async (jobId: string, status: string) =>
      (await app.services.database.sql`select 1 from webhook_deliveries where job_id = ${jobId} and status = ${status}`).length > 0;
    const before = await scrape();
    const id = await submit('default', { webhookUrl: url });
    await waitForStatus(app, id, ['COMPLETED']);
    await waitFor('the delivery to fail', () => delivered(id, 'FAILED'));
    // Threshold 1: that failure opened the URL's circuit, but nothing waits behind it (no retries): an
    // abandoned URL must not hold the alert up.
    await waitFor(
      'the circuit to be open',
      async () => (await app.services.database.sql`select 1 from webhook_url_circuits where url = ${url} and circuit_state = 'OPEN'`).length > 0,
    );
    await new Promise((r) => setTimeout(r, 1100)); // past the gauges' one-second cache
    const failed = await scrape();
    expect(value(failed, 'vidq_webhook_deliveries_total{result="FAILED"}') - value(before, 'vidq_webhook_deliveries_total{result="FAILED"}')).toBe(1);
    expect(value(failed, 'vidq_webhook_circuits_open')).toBe(0);
    // The next job's delivery to that URL waits for the cool-down (a minute): now the circuit counts.
    const next = await submit('default', { webhookUrl: url });
    await waitForStatus(app, next, ['COMPLETED']);
    await waitFor(
      'the delivery to wait',
      async () =>
        (await app.services.database.sql`select 1 from webhook_deliveries where job_id = ${next} and status = 'PENDING' and next_attempt_at > now()`).length >
        0,
    );
    await waitFor('the gauge to count the circuit', async () => value(await scrape(), 'vidq_webhook_circuits_open') === 1);
    receiver.setBehaviour({});
  });

  it('reads queue depth and the oldest wait per pipeline from PostgreSQL', async () => {
    const waiting = await submit('exits', { stageOptions: { exitwith: { code: 0 } } }); // no worker serves `exits`
    await new Promise((r) => setTimeout(r, 1200));
    const samples = await scrape();
    expect(value(samples, 'vidq_queue_depth{pipeline="exits"}')).toBe(1);
    expect(value(samples, 'vidq_queue_oldest_age_seconds{pipeline="exits"}')).toBeGreaterThanOrEqual(1);
    expect(samples.has('vidq_queue_depth{pipeline="hls"}')).toBe(true); // every pipeline has a series, 0 when idle
    expect(value(samples, 'vidq_queue_depth{pipeline="hls"}')).toBe(0);
    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: waiting });
  });

  it('counts open WebSockets and live subscriptions', async () => {
    const id = await submit('exits', { stageOptions: { exitwith: { code: 0 } } }); // stays QUEUED: the subscription stays open
    const before = await scrape();
    const client = wsClient(app.url, user.key);
    const events: unknown[] = [];
    const unsubscribe = client.subscribe(
      { query: 'subscription($id: ID!) { jobUpdated(jobId: $id) { ... on JobEvent { sequence } } }', variables: { id } },
      { next: (e) => events.push(e), error: () => {}, complete: () => {} },
    );
    await waitFor('the replayed event', async () => events.length > 0);
    const during = await scrape();
    expect(value(during, 'vidq_ws_connections') - value(before, 'vidq_ws_connections')).toBe(1);
    expect(value(during, 'vidq_subscriptions') - value(before, 'vidq_subscriptions')).toBe(1);
    unsubscribe();
    await client.dispose();
    await waitFor('the socket to close', async () => value(await scrape(), 'vidq_ws_connections') === value(before, 'vidq_ws_connections'));
    expect(value(await scrape(), 'vidq_subscriptions')).toBe(value(before, 'vidq_subscriptions'));
    await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id });
  });

  it('a worker-only process serves its own /metrics on METRICS_PORT, every alerted series at 0 from the start', async () => {
    const port = await freePort();
    const worker = spawnVidq(['serve', '--role', 'worker'], {
      DATABASE_URL: app.database.url,
      DATA_DIR: app.dataDir,
      METRICS_PORT: String(port),
      METRICS_TOKEN: TOKEN,
      WORKER_PIPELINES: 'default',
      JOB_STAGES: 'probe',
    });
    const url = `http://127.0.0.1:${port}`;
    await untilServing(worker, url);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    // Every series an alert rule watches with increase() is there at 0 before its first event: one
    // that first appears at 1 shows Prometheus no increase, and the first timed-out job would not alert.
    const fresh = await scrape(url);
    const alerted = [
      ...['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].map((status) => `vidq_jobs_total{pipeline="default",status="${status}"}`),
      ...['DELIVERED', 'FAILED'].map((result) => `vidq_webhook_deliveries_total{result="${result}"}`),
      ...['aborted', 'refused', 'failed'].map((outcome) => `vidq_storage_abandoned_uploads_total{outcome="${outcome}"}`),
    ];
    expect(Object.fromEntries(alerted.map((series) => [series, fresh.get(series)]))).toEqual(Object.fromEntries(alerted.map((series) => [series, 0])));
    expect((await fetch(`${url}/graphql`)).status).toBe(404); // no GraphQL in a worker
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('vidq started');
    expect(worker.output()).not.toContain('METRICS_PORT is not set');
  });

  it('a worker-only process without METRICS_PORT warns at start that the alerts cannot see it', async () => {
    const worker = spawnVidq(['serve', '--role', 'worker'], {
      DATABASE_URL: app.database.url,
      DATA_DIR: app.dataDir,
      WORKER_PIPELINES: 'default',
      JOB_STAGES: 'probe',
    });
    await waitFor('the worker to start', async () => worker.output().includes('vidq started'), 60_000);
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const warning = worker
      .output()
      .split('\n')
      .filter((line) => line.includes('METRICS_PORT is not set'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(warning).toHaveLength(1);
    expect(warning[0]!.level).toBe(40); // pino's warn
    expect(warning[0]!.msg).toMatch(/alert rules on jobs and webhook deliveries .* cannot see what it does\. Set METRICS_PORT/);
  });
});
