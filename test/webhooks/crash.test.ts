// One event is delivered once per target whatever crashes in between: a worker killed in the middle of
// a request, queue jobs that do not hold a delivery's lease, and several workers sharing a burst.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverySettings, processBatch, processDelivery, type DeliveryDeps } from '../../src/webhooks/delivery-run';
import { startTestApp, type TestApp } from '../helpers/app';
import { waitFor } from '../helpers/jobs';
import { LEASE_LOCK_CLASS } from '../../src/db/process-lease';
import { ensureQueues } from '../../src/queue/boss';
import { QUEUES } from '../../src/queue/queues';
import { killAllVidq, spawnVidq } from '../helpers/processes';
import { startReceiver } from '../helpers/webhook-receiver';
import { attemptLog, deliveryRow, emitTerminalEvent, signatureValid, viewerSecret, waitForDelivery } from './helpers';

let api: TestApp;
const extraApps: TestApp[] = [];

beforeAll(async () => {
  api = await startTestApp({ env: { ROLE: 'api', WEBHOOK_RETRY_BASE_SECONDS: '0.3' } });
});
afterAll(async () => {
  await killAllVidq();
  for (const app of extraApps) await app.close();
  await api?.close();
});

const workerEnv = () => ({
  DATABASE_URL: api.database.url,
  DATA_DIR: api.dataDir,
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_RETRY_BASE_SECONDS: '0.3',
  HEARTBEAT_SECONDS: '10',
  MONITOR_INTERVAL_SECONDS: '1',
  LOG_LEVEL: 'warn',
});

describe('a worker killed with SIGKILL in the middle of a delivery', () => {
  it('leaves the attempt to another worker, which delivers the event exactly once successfully and marks it DELIVERED', async () => {
    // The first request hangs, so the kill lands while the worker waits for the answer.
    const answered: string[] = [];
    const hook = await startReceiver((req, i) => {
      if (i === 0) return { hang: true };
      answered.push(String(req.headers['webhook-id']));
      return { status: 200 };
    });
    try {
      const user = await api.createUser();
      const { deliveries } = await emitTerminalEvent(api, user.id, { webhookUrl: hook.url });
      const delivery = deliveries[0];

      const first = spawnVidq(['serve', '--role', 'worker'], workerEnv());
      await hook.waitFor(1, 30_000);
      const inFlight = await deliveryRow(api, delivery.id);
      expect(inFlight).toMatchObject({ status: 'PENDING', attempts: 1, nextAttemptAt: null });
      first.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');

      const second = spawnVidq(['serve', '--role', 'worker'], workerEnv());
      const row = await waitForDelivery(api, delivery.id, ['DELIVERED', 'FAILED'], 60_000).catch((err) => {
        throw new Error(`${err.message}\n${second.output().slice(-3000)}`);
      });
      expect(row).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatusCode: 200 });

      const forEvent = hook.requests.filter((r) => r.headers['webhook-id'] === delivery.eventId);
      expect(forEvent).toHaveLength(2);
      expect(answered).toEqual([delivery.eventId]);
      const secret = await viewerSecret(api, user);
      for (const r of forEvent) expect(signatureValid(secret, r)).toBe(true);
      const log = await attemptLog(api, delivery.id);
      expect(log.map((a) => [a.attempt, a.statusCode])).toEqual([
        [1, null],
        [2, 200],
      ]);
      expect(log[0].error).toMatch(/no outcome recorded: the worker stopped during this attempt/);

      // Nothing more is sent later, by either queue job.
      const [queued] = await api.services.database
        .sql`select count(*)::int as n from pgboss.job where name = 'webhook-delivery' and data->>'deliveryId' = ${delivery.id} and state not in ('completed', 'cancelled')`;
      expect(queued.n).toBe(0);
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(hook.requests.filter((r) => r.headers['webhook-id'] === delivery.eventId)).toHaveLength(2);
    } finally {
      await hook.close();
    }
  });
});

describe('the delivery lease', () => {
  it('lets only the queue job that holds it send, and nothing once the delivery is final', async () => {
    const hook = await startReceiver({ status: 200 });
    try {
      const user = await api.createUser();
      const { deliveries } = await emitTerminalEvent(api, user.id, { webhookUrl: hook.url });
      const deps: DeliveryDeps = { database: api.services.database, boss: api.services.boss, log: api.services.log, settings: deliverySettings(api.config) };
      const stranger = '00000000-0000-4000-8000-000000000001';
      expect(await processDelivery(deps, stranger, { deliveryId: deliveries[0].id })).toBe('stale');
      expect(hook.requests).toHaveLength(0);
      expect(await processDelivery(deps, deliveries[0].id, { deliveryId: deliveries[0].id })).toBe('delivered');
      expect(await processDelivery(deps, deliveries[0].id, { deliveryId: deliveries[0].id })).toBe('stale');
      expect(hook.requests).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it('is taken up by a running worker as soon as the dead one’s database session ends, long before a missed heartbeat could tell', async () => {
    const hook = await startReceiver((_req, i) => (i === 0 ? { hang: true } : { status: 200 }));
    try {
      const user = await api.createUser();
      const { deliveries } = await emitTerminalEvent(api, user.id, { webhookUrl: hook.url });
      const delivery = deliveries[0];
      // Heartbeats of two minutes: within this test's time only the lease (session advisory lock) can explain a hand-over.
      const env = { ...workerEnv(), HEARTBEAT_SECONDS: '120' };
      const first = spawnVidq(['serve', '--role', 'worker'], env);
      await hook.waitFor(1, 30_000);
      const leases = async () =>
        (await api.services.database.sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = ${LEASE_LOCK_CLASS}::oid`)[0]
          .n as number;
      const before = await leases();
      const second = spawnVidq(['serve', '--role', 'worker'], env);
      await waitFor('the second worker to hold its lease', async () => (await leases()) > before, 30_000);
      first.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();
      const row = await waitForDelivery(api, delivery.id, ['DELIVERED', 'FAILED'], 60_000);
      expect(row).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatusCode: 200 });
      const log = await attemptLog(api, delivery.id);
      expect(log.map((a) => [a.attempt, a.statusCode])).toEqual([
        [1, null],
        [2, 200],
      ]);
      expect(log[1].at.getTime() - killedAt).toBeLessThan(60_000);
      expect(hook.requests.map((r) => r.headers['webhook-id'])).toEqual([delivery.eventId, delivery.eventId]);
      second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await hook.close();
    }
  });

  it('gives a claim only to the lease holder when a stale queue job for the same delivery is in the same batch', async () => {
    const hook = await startReceiver({ status: 200 });
    try {
      const user = await api.createUser();
      const { deliveries } = await emitTerminalEvent(api, user.id, { webhookUrl: hook.url });
      const deps: DeliveryDeps = { database: api.services.database, boss: api.services.boss, log: api.services.log, settings: deliverySettings(api.config) };
      const data = { deliveryId: deliveries[0].id };
      const outcomes = await processBatch(deps, [
        { id: '00000000-0000-4000-8000-000000000002', data },
        { id: deliveries[0].id, data },
      ]);
      expect(outcomes).toEqual(['stale', 'delivered']);
      expect(hook.requests).toHaveLength(1);
      expect(await deliveryRow(api, deliveries[0].id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    } finally {
      await hook.close();
    }
  });

  it('outlasts the longest attempt: pg-boss does not retry a run still waiting for its receiver', async () => {
    const { boss, config, database } = api.services;
    const expiry = async (webhookTimeoutMs: number) => {
      await ensureQueues(boss, { ...config, webhookTimeoutMs });
      const [queue] = await database.sql<{ expire_seconds: number }[]>`select expire_seconds from pgboss.queue where name = ${QUEUES.webhookDelivery}`;
      return queue.expire_seconds;
    };
    try {
      // An attempt is at most two sends of WEBHOOK_TIMEOUT_MS (the second on a fresh connection).
      for (const timeoutMs of [1000, 10_000, 120_000]) expect(await expiry(timeoutMs)).toBeGreaterThan((2 * timeoutMs) / 1000);
    } finally {
      await ensureQueues(boss, config);
    }
  });
});

describe('several workers sharing a burst of events', () => {
  it('send each attempt once: every event is received exactly twice when its first attempt gets a 500', async () => {
    for (let i = 0; i < 3; i++) {
      // Every first attempt fails, all to one URL: a circuit would open (as it should); this test is
      // about sending each attempt once, so the circuit is kept out of it.
      extraApps.push(
        await startTestApp({
          database: api.database,
          dataDir: api.dataDir,
          env: { ROLE: 'worker', WEBHOOK_RETRY_BASE_SECONDS: '0.3', WEBHOOK_CONCURRENCY: '4', WEBHOOK_CIRCUIT_FAILURE_THRESHOLD: '1000' },
        }),
      );
    }
    const seen = new Map<string, number>();
    const hook = await startReceiver((req) => {
      const id = String(req.headers['webhook-id']);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return { status: n === 1 ? 500 : 200 };
    });
    try {
      const user = await api.createUser();
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) ids.push((await emitTerminalEvent(api, user.id, { webhookUrl: hook.url })).deliveries[0].id);
      await waitFor(
        'every delivery to finish',
        async () => {
          const rows = await api.services.database
            .sql`select count(*)::int as n from webhook_deliveries where id = any(${ids}::uuid[]) and status <> 'PENDING'`;
          return rows[0].n === ids.length;
        },
        60_000,
      );
      const rows = await api.services.database
        .sql`select status, attempts, count(*)::int as n from webhook_deliveries where id = any(${ids}::uuid[]) group by 1, 2`;
      expect(rows).toEqual([{ status: 'DELIVERED', attempts: 2, n: 40 }]);
      expect(seen.size).toBe(40);
      expect([...seen.values()].every((n) => n === 2)).toBe(true);
      const logRows = await api.services.database.sql`select count(*)::int as n from webhook_delivery_attempts where delivery_id = any(${ids}::uuid[])`;
      expect(logRows[0].n).toBe(80);
    } finally {
      await hook.close();
    }
  });
});
