// The pg-boss instance: on the application's database, in its own schema.
import { PgBoss } from 'pg-boss';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { PGBOSS_SCHEMA, processingQueue, QUEUES } from './queues';

export async function startQueue(url: string, config: Config, log: Logger, opts: { supervise: boolean; pipelines: string[] }): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    schema: PGBOSS_SCHEMA,
    application_name: `vidq-${config.role}`,
    max: 5,
    useListenNotify: true,
    // A worker that died is noticed through its missed heartbeats; the monitor has to look often for
    // its job to be picked up again within seconds rather than minutes.
    supervise: opts.supervise,
    monitorIntervalSeconds: config.monitorIntervalSeconds,
    superviseIntervalSeconds: Math.max(config.monitorIntervalSeconds, 1),
    schedule: opts.supervise,
    registerInstance: false,
    openTelemetry: { enabled: false },
  });
  boss.on('error', (error) => log.error({ err: error }, 'queue error'));
  boss.on('warning', (warning) => log.warn({ warning }, 'queue warning'));
  await boss.start();
  await ensureQueues(boss, config, opts.pipelines);
  return boss;
}

/** Creates the queues (one per pipeline for processing), or updates their defaults when the configuration changed. */
export async function ensureQueues(boss: PgBoss, config: Config, pipelines: string[] = ['default']): Promise<void> {
  const processing = {
    retryLimit: config.jobMaxRetries,
    retryDelay: config.jobRetryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: config.processingTimeoutSeconds,
    heartbeatSeconds: config.heartbeatSeconds,
    notify: true,
  };
  // A delivery run makes at most one HTTP attempt; its retries are new queue jobs (src/webhooks/delivery-run.ts).
  // pg-boss's own retries only recover a run whose worker died or lost the database: the delivery's
  // lease then lets the retry record the lost attempt and carry on.
  const delivery = {
    retryLimit: 10,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    // Longer than an attempt can run: two sends (a reused connection the receiver had closed is sent
    // again) of WEBHOOK_TIMEOUT_MS each. pg-boss would otherwise retry a run still waiting for its
    // receiver, which would take the attempt for lost and send the event a second time meanwhile.
    expireInSeconds: 2 * Math.ceil(config.webhookTimeoutMs / 1000) + 30,
    heartbeatSeconds: config.heartbeatSeconds,
    notify: true,
  };
  const maintenance = { retryLimit: 1, expireInSeconds: 300 };
  // Alerts to ADMIN_ALERT_WEBHOOK_URL: retried for about 8 minutes (2 s, 4 s, 8 s… capped at 5 min).
  const alertDelivery = { retryLimit: 8, retryDelay: 2, retryBackoff: true, retryDelayMax: 300, expireInSeconds: 60, notify: true };
  const alertScan = { retryLimit: 0, expireInSeconds: 120 };
  for (const [name, options] of [
    ...pipelines.map((pipeline) => [processingQueue(pipeline), processing] as const),
    [QUEUES.webhookDelivery, delivery],
    [QUEUES.maintenance, maintenance],
    [QUEUES.alertDelivery, alertDelivery],
    [QUEUES.alertScan, alertScan],
  ] as const) {
    if (await boss.getQueue(name)) await boss.updateQueue(name, options);
    else await boss.createQueue(name, options);
  }
}
