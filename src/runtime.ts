// Opens what every vidq process needs, in order: database (migrated), queue, services.
import type { Config } from './config';
import { openDatabase } from './db/open';
import { TERMINAL_STATUSES } from './jobs/status';
import { startAlertedSeriesAtZero } from './metrics/index';
import { loadStageRegistry } from './pipeline/registry/index';
import { ProcessLease } from './db/process-lease';
import type { Logger } from './logger';
import { startQueue } from './queue/boss';
import { createStorage } from './storage/index';
import { uploadJournal } from './storage/upload-journal';
import type { Services } from './services';

export interface Runtime {
  services: Services;
  /** Called if the embedded PostgreSQL this process started dies under it (never with DATABASE_URL). */
  onDatabaseLost(listener: (how: string) => void): void;
  close(): Promise<void>;
}

export async function startRuntime(config: Config, log: Logger): Promise<Runtime> {
  // The stage registry first: a bad PIPELINES_FILE stops the start before anything is opened.
  const stages = loadStageRegistry(config);
  if (config.role !== 'api') stages.checkServed(config.workerPipelines);
  startAlertedSeriesAtZero(
    stages.pipelines.map((p) => p.name),
    TERMINAL_STATUSES,
  );
  // Storage first: a bucket that cannot be used stops the start before anything else is started.
  const storage = await createStorage(config);
  try {
    await storage.check();
  } catch (error) {
    storage.close();
    throw error;
  }
  const opened = await openDatabase(config, log).catch((error) => {
    storage.close();
    throw error;
  });
  try {
    // Only processes that run workers supervise the queues (expiry, heartbeats, schedules).
    const boss = await startQueue(opened.database.url, config, log, { supervise: config.role !== 'api', pipelines: stages.pipelines.map((p) => p.name) });
    const lease = await ProcessLease.take(opened.database.url, log, `vidq-${config.role}-lease`).catch(async (error) => {
      await boss.stop({ graceful: false, close: true }).catch(() => {});
      throw error;
    });
    storage.recordUploadsIn(uploadJournal(opened.database, lease));
    const services: Services = { config, database: opened.database, boss, log, lease, storage, stages };
    return {
      services,
      onDatabaseLost: (listener) => opened.embedded?.onUnexpectedExit(listener),
      async close() {
        await boss.stop({ graceful: false, close: true, timeout: 5000 }).catch((err) => log.warn({ err }, 'queue stop failed'));
        await lease.close();
        await opened.close();
        storage.close();
      },
    };
  } catch (error) {
    await opened.close();
    storage.close();
    throw error;
  }
}
