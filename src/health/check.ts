// Liveness of the parts a request needs: the database, the queue and the storage (s3: the bucket),
// each checked for real.
import { createRequire } from 'node:module';
import type { Services } from '../services';

/** vidq's version, from its package.json. */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The runtime configuration a client may rely on (never a secret: no keys, URLs with credentials, paths). */
export interface PublicConfig {
  maxFileSizeMb: number;
  processingTimeoutSeconds: number;
  storageDriver: string;
  pipelines: string[];
  webhookMaxRetries: number;
  webhookTimeoutMs: number;
}

export function publicConfig(services: Pick<Services, 'config' | 'stages'>): PublicConfig {
  const { config } = services;
  return {
    maxFileSizeMb: config.maxFileSizeMb,
    processingTimeoutSeconds: config.processingTimeoutSeconds,
    storageDriver: config.storageDriver,
    pipelines: services.stages.pipelines.map((p) => p.name),
    webhookMaxRetries: config.webhookMaxRetries,
    webhookTimeoutMs: config.webhookTimeoutMs,
  };
}

const CHECK_TIMEOUT_MS = 2000;
const startedAt = Date.now();

export interface HealthReport {
  status: 'ok' | 'error';
  database: string;
  queue: string;
  storage: string;
  role: string;
  uptimeSeconds: number;
  version: string;
  config: PublicConfig;
}

async function check(run: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(services: Services): Promise<HealthReport> {
  const [database, queue, storage] = await Promise.all([
    check(() => services.database.sql`select 1`),
    // pg-boss has its own connection pool: check it through pg-boss itself.
    check(() => services.boss.getDb().executeSql(`select count(*) from ${'pgboss'}.queue`)),
    // s3: HeadBucket, whose failure says which setting to look at; local: DATA_DIR can be created.
    check(() => services.storage.check()),
  ]);
  return {
    status: database === 'ok' && queue === 'ok' && storage === 'ok' ? 'ok' : 'error',
    database,
    queue,
    storage,
    role: services.config.role,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    version: VERSION,
    config: publicConfig(services),
  };
}
