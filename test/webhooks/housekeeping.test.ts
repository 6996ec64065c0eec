// Webhook housekeeping: a delivery whose queue job ended without finishing it is picked up again,
// finished deliveries go after the retention period, and so do the circuits of jobs' webhook URLs
// that nothing waits on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PGBOSS_SCHEMA, QUEUES } from '../../src/queue/queues';
import { removeExpiredDeliveries, resumeStrandedDeliveries } from '../../src/webhooks/housekeeping';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { waitFor } from '../helpers/jobs';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import { attemptLog, createEndpoint, deliveryRow, emitTerminalEvent, waitForDelivery } from './helpers';

let api: TestApp; // no workers: deliveries stay where the test puts them until a worker is started
let user: TestUser;
let hook: Receiver;

beforeAll(async () => {
  api = await startTestApp({ env: { ROLE: 'api' } });
  user = await api.createUser({ name: 'hooks' });
  hook = await startReceiver({ status: 200 });
});
afterAll(async () => {
  await hook?.close();
  await api?.close();
});

const queueState = async (id: string) =>
  (await api.services.database.sql`select state from ${api.services.database.sql(PGBOSS_SCHEMA)}.job where name = ${QUEUES.webhookDelivery} and id = ${id}`)[0]
    ?.state;

async function backdate(deliveryId: string, seconds: number) {
  await api.services.database.sql`update webhook_deliveries set updated_at = now() - ${seconds} * interval '1 second' where id = ${deliveryId}`;
}

describe('a delivery whose queue job ended without finishing it', () => {
  it('is handed to a new queue job by the sweep and delivered once; healthy and fresh ones are left alone', async () => {
    const stranded = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/stranded` })).deliveries[0]!;
    const healthy = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/healthy` })).deliveries[0]!;
    const fresh = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/fresh` })).deliveries[0]!;
    // The stranded one's queue job used up its own retries (state failed) a while ago; the fresh one's
    // failed just now; the healthy one is waiting in the queue as usual.
    await api.services.database
      .sql`update ${api.services.database.sql(PGBOSS_SCHEMA)}.job set state = 'failed' where id in ${api.services.database.sql([stranded.id, fresh.id])}`;
    await backdate(stranded.id, 600);
    await backdate(healthy.id, 600);

    const resumed = await resumeStrandedDeliveries(api.services);
    expect(resumed).toEqual([stranded.id]);
    const row = await deliveryRow(api, stranded.id);
    expect(row.status).toBe('PENDING');
    expect(row.queueJobId).not.toBe(stranded.id);
    expect(await queueState(row.queueJobId!)).toBe('created');
    expect(await resumeStrandedDeliveries(api.services)).toEqual([]); // a second sweep finds nothing

    const worker = await startTestApp({ env: { ROLE: 'worker' }, database: api.database, dataDir: api.dataDir });
    try {
      const delivered = await waitForDelivery(api, stranded.id);
      expect(delivered.status).toBe('DELIVERED');
      expect(await waitForDelivery(api, healthy.id)).toMatchObject({ status: 'DELIVERED' });
      await hook.waitFor(2);
      // Give a stray duplicate time to show up before counting.
      await new Promise((r) => setTimeout(r, 1000));
      expect(hook.requests.filter((r) => r.path === '/stranded')).toHaveLength(1);
      expect(hook.requests.filter((r) => r.path === '/healthy')).toHaveLength(1);
      expect(hook.requests.filter((r) => r.path === '/fresh')).toHaveLength(0);
      expect((await attemptLog(api, stranded.id)).map((a) => a.attempt)).toEqual([1]);
      expect((await deliveryRow(api, fresh.id)).status).toBe('PENDING'); // the next sweep's, once it is a minute old
    } finally {
      await worker.close();
    }
  });

  it('resumes an attempt that was in flight as lost, then retries it', async () => {
    const { deliveries } = await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/in-flight` });
    const id = deliveries[0]!.id;
    // As a worker leaves it when it dies mid-attempt: attempt 1 claimed, no outcome recorded, and its
    // queue job then failed for good.
    await api.services.database.sql`update webhook_deliveries set attempts = 1, next_attempt_at = null where id = ${id}`;
    await api.services.database.sql`update ${api.services.database.sql(PGBOSS_SCHEMA)}.job set state = 'failed' where id = ${id}`;
    await backdate(id, 600);
    expect(await resumeStrandedDeliveries(api.services)).toContain(id);

    const worker = await startTestApp({ env: { ROLE: 'worker', WEBHOOK_RETRY_BASE_SECONDS: '0.2' }, database: api.database, dataDir: api.dataDir });
    try {
      const row = await waitForDelivery(api, id);
      expect(row.status).toBe('DELIVERED');
      const log = await attemptLog(api, id);
      expect(log.map((a) => a.attempt)).toEqual([1, 2]);
      expect(log[0]!.error).toMatch(/no outcome recorded/);
      expect(log[1]!.statusCode).toBe(200);
    } finally {
      await worker.close();
    }
  });
});

describe('retention of deliveries', () => {
  it('removes finished deliveries (and their attempt logs) older than JOB_RETENTION_HOURS, keeping recent and pending ones', async () => {
    const worker = await startTestApp({ env: { ROLE: 'worker' }, database: api.database, dataDir: api.dataDir });
    let old: string, recent: string;
    try {
      old = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/old` })).deliveries[0]!.id;
      recent = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/recent` })).deliveries[0]!.id;
      await waitForDelivery(api, old);
      await waitForDelivery(api, recent);
    } finally {
      await worker.close();
    }
    const pending = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/pending` })).deliveries[0]!.id;
    const hours = api.config.jobRetentionHours;
    await backdate(old, hours * 3600 + 60);
    await backdate(pending, hours * 3600 + 60);
    expect(await attemptLog(api, old)).toHaveLength(1);

    expect(await removeExpiredDeliveries(api.services)).toBe(1);
    expect(await deliveryRow(api, old)).toBeUndefined();
    expect(await attemptLog(api, old)).toHaveLength(0);
    expect((await deliveryRow(api, recent)).status).toBe('DELIVERED');
    expect((await deliveryRow(api, pending)).status).toBe('PENDING');
    await waitFor('nothing else removed', async () => ((await removeExpiredDeliveries(api.services)) === 0 ? true : null), 5000);
  });
});

describe("circuits of jobs' webhook URLs", () => {
  it('are removed by the retention run once no delivery of their owner waits on them and they are over an hour old; others stay', async () => {
    const other = await api.createUser({ name: 'hooks-2' });
    const sql = api.services.database.sql;
    const circuit = async (ownerId: string, path: string, minutesAgo: number) => {
      await sql`insert into webhook_url_circuits (owner_id, url, circuit_state, consecutive_failures, circuit_opened_at, next_probe_at, updated_at)
        values (${ownerId}, ${hook.url + path}, 'OPEN', 5, now() - ${minutesAgo} * interval '1 minute',
                now() - ${minutesAgo - 1} * interval '1 minute', now() - ${minutesAgo} * interval '1 minute')`;
    };
    // A URL a customer stopped using: its last delivery failed for good, two hours ago.
    const abandoned = (await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/abandoned` })).deliveries[0]!.id;
    await sql`update webhook_deliveries set status = 'FAILED' where id = ${abandoned}`;
    await circuit(user.id, '/abandoned', 120);
    // Old, but a delivery waits behind it: the circuit is what holds it back.
    await emitTerminalEvent(api, user.id, { webhookUrl: `${hook.url}/waiting` });
    await circuit(user.id, '/waiting', 120);
    // Nothing waits, but it opened ten minutes ago: a new job to that URL still finds it open.
    await circuit(user.id, '/recent', 10);
    // Deliveries wait for these URLs, but another owner's job's, and this owner's endpoint's: neither
    // goes through this owner's webhookUrl circuit.
    await emitTerminalEvent(api, other.id, { webhookUrl: `${hook.url}/shared` });
    await circuit(user.id, '/shared', 120);
    await createEndpoint(api, user, `${hook.url}/endpoint`);
    const viaEndpoint = (await emitTerminalEvent(api, user.id)).deliveries;
    expect(viaEndpoint.map((d) => [d.url, d.status])).toEqual([[`${hook.url}/endpoint`, 'PENDING']]);
    await circuit(user.id, '/endpoint', 120);

    await removeExpiredDeliveries(api.services); // the maintenance job's retention step
    const left = await sql<{ owner_id: string; url: string }[]>`select owner_id, url from webhook_url_circuits order by url`;
    expect(left.map((r) => [r.owner_id, r.url.slice(hook.url.length)])).toEqual([
      [user.id, '/recent'],
      [user.id, '/waiting'],
    ]);
  });
});
