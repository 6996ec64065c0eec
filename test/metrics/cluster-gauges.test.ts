// The cluster-wide gauges read from PostgreSQL at scrape time: which webhook circuits count as open, and
// what a scrape says when the read fails (the database away) instead of repeating the last values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import type { TestDatabase } from '../helpers/db';
import { waitFor } from '../helpers/jobs';
import { insertJobRow, insertVideoRow } from '../helpers/rows';
import { databaseBehindProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { createEndpoint, emitTerminalEvent } from '../webhooks/helpers';

const TOKEN = 'prometheus-scrape-token-0123456789';

/** Scrapes /metrics into "name{labels}" → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

describe('vidq_webhook_circuits_open', () => {
  let app: TestApp; // API only: deliveries stay PENDING where the test puts them
  let user: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    app = await startTestApp({ env: { ROLE: 'api', METRICS_TOKEN: TOKEN } });
    user = await app.createUser({ name: 'circuits' });
    other = await app.createUser({ name: 'circuits-2' });
  });
  afterAll(() => app?.close());

  it("counts enabled endpoints' open circuits, and a job's webhookUrl circuit only while a delivery of its owner to that URL waits", async () => {
    const { sql } = app.services.database;
    const hooks = 'http://127.0.0.1:9'; // never called: no worker runs here
    const urlCircuit = (ownerId: string, url: string, state = 'OPEN') =>
      sql`insert into webhook_url_circuits (owner_id, url, circuit_state, consecutive_failures, circuit_opened_at, next_probe_at)
          values (${ownerId}, ${url}, ${state}, 5, now(), now() + interval '1 minute')`;
    // Counted: an enabled endpoint whose circuit is open.
    const open = await createEndpoint(app, other, `${hooks}/open`, { events: ['job.failed'] });
    await sql`update webhook_endpoints set circuit_state = 'OPEN' where id = ${open.id}`;
    // Not counted: an open circuit of a disabled endpoint sends nothing.
    const disabled = await createEndpoint(app, other, `${hooks}/disabled`, { events: ['job.failed'] });
    await sql`update webhook_endpoints set circuit_state = 'OPEN', enabled = false, disabled_reason = 'test' where id = ${disabled.id}`;
    // Counted: a job's delivery waits behind its webhookUrl's circuit (HALF_OPEN: a probe in flight).
    const waiting = (await emitTerminalEvent(app, user.id, { webhookUrl: `${hooks}/waiting` })).deliveries[0]!;
    await urlCircuit(user.id, `${hooks}/waiting`, 'HALF_OPEN');
    // Not counted: a URL whose last delivery failed for good and that no job names any more.
    const abandoned = (await emitTerminalEvent(app, user.id, { webhookUrl: `${hooks}/abandoned` })).deliveries[0]!;
    await sql`update webhook_deliveries set status = 'FAILED' where id = ${abandoned.id}`;
    await urlCircuit(user.id, `${hooks}/abandoned`);
    // Not counted: the delivery waiting for that URL is another owner's, whose circuit is its own.
    await emitTerminalEvent(app, other.id, { webhookUrl: `${hooks}/theirs` });
    await urlCircuit(user.id, `${hooks}/theirs`);

    expect((await scrape(app.url)).get('vidq_webhook_circuits_open')).toBe(2);
    // The waiting delivery ends: its URL's circuit no longer holds anything back.
    await sql`update webhook_deliveries set status = 'DELIVERED' where id = ${waiting.id}`;
    await waitFor('the gauge to drop to the endpoint alone', async () => (await scrape(app.url)).get('vidq_webhook_circuits_open') === 1);
  });
});

describe('a scrape while PostgreSQL is unreachable', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let app: TestApp;
  beforeAll(async () => {
    let url: string;
    ({ database, proxy, url } = await databaseBehindProxy());
    app = await startTestApp({ database, env: { ROLE: 'api', METRICS_TOKEN: TOKEN, DATABASE_URL: url } });
  });
  afterAll(async () => {
    proxy?.restore();
    await app?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers with vidq_cluster_gauges_ok 0 and the last values of the gauges, then 1 once the database is back', async () => {
    // A job waiting in the queue (no worker here), so that the gauges have something other than 0 to keep.
    const user = await app.createUser({ name: 'outage' });
    const video = await insertVideoRow(app.services.database.db, user.id);
    const job = await insertJobRow(app.services.database.db, user.id, video.id, { status: 'PROCESSING' });
    await app.services.database.sql`update jobs set status = 'QUEUED', stage = null where id = ${job}`;
    const before = await scrape(app.url);
    expect(before.get('vidq_cluster_gauges_ok')).toBe(1);
    expect(before.get('vidq_queue_depth{pipeline="default"}')).toBe(1);

    proxy.cut();
    const during = await waitFor('a scrape that could not read the gauges', async () => {
      const samples = await scrape(app.url);
      return samples.get('vidq_cluster_gauges_ok') === 0 ? samples : null;
    });
    // Kept, not reset: an alert already firing on them must not resolve because the database went away.
    expect(during.get('vidq_queue_depth{pipeline="default"}')).toBe(1);
    expect(during.get('vidq_queue_oldest_age_seconds{pipeline="default"}')).toBe(before.get('vidq_queue_oldest_age_seconds{pipeline="default"}'));

    proxy.restore();
    await waitFor('the gauges to be read again', async () => (await scrape(app.url)).get('vidq_cluster_gauges_ok') === 1);
  });
});
