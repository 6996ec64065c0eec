// The pg-boss instance: on the application's database, in its own schema.
import { PgBoss } from 'pg-boss';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { PGBOSS_SCHEMA, QUEUES } from './queues';

export async function startQueue(url: string, config: Config, log: Logger, opts: { supervise: boolean }): Promise<PgBoss> {
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
  await ensureQueues(boss, config);
  return boss;
}

/** Creates the queues, or updates their defaults when the configuration changed. */
export async function ensureQueues(boss: PgBoss, config: Config): Promise<void> {
  const processing = {
    retryLimit: config.jobMaxRetries,
    retryDelay: config.jobRetryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: config.processingTimeoutSeconds,
    heartbeatSeconds: config.heartbeatSeconds,
    notify: true,
  };
  const delivery = { retryLimit: 0, expireInSeconds: 60, heartbeatSeconds: config.heartbeatSeconds, notify: true };
  const maintenance = { retryLimit: 1, expireInSeconds: 300 };
  for (const [name, options] of [
    [QUEUES.videoProcessing, processing],
    [QUEUES.webhookDelivery, delivery],
    [QUEUES.maintenance, maintenance],
  ] as const) {
    if (await boss.getQueue(name)) await boss.updateQueue(name, options);
    else await boss.createQueue(name, options);
  }
}
