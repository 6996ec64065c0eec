// A real vidq for a test file: its own database and DATA_DIR, a real HTTP + WebSocket server on a free
// port, the real queue and workers.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createApiKey } from '../../src/auth/keys';
import { createUser } from '../../src/auth/users';
import { type Config, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRuntime } from '../../src/runtime';
import { startApi, type RunningApi } from '../../src/server/app';
import type { Services } from '../../src/services';
import { startWorkers, type Workers } from '../../src/workers';
import { createTestDatabase, type TestDatabase } from './db';

export interface TestUser {
  id: string;
  key: string;
  keyId: string;
}

export interface TestApp {
  url: string;
  config: Config;
  services: Services;
  database: TestDatabase;
  dataDir: string;
  api: RunningApi | null;
  createUser(opts?: { name?: string; admin?: boolean; credits?: number }): Promise<TestUser>;
  close(): Promise<void>;
}

/** `database` and `dataDir` let several apps (API and workers) share one installation. */
export async function startTestApp(opts: { env?: Record<string, string>; database?: TestDatabase; dataDir?: string } = {}): Promise<TestApp> {
  const database = opts.database ?? (await createTestDatabase());
  const dataDir = opts.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-test-data-')));
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    SHUTDOWN_GRACE_SECONDS: '2',
    ...opts.env,
  });
  const log = createLogger(config.logLevel, { test: true });
  const runtime = await startRuntime(config, log);
  let api: RunningApi | null = null;
  let workers: Workers | null = null;
  try {
    api = config.role === 'worker' ? null : await startApi(runtime.services);
    workers = config.role === 'api' ? null : await startWorkers(runtime.services);
  } catch (error) {
    // A half-started app must not keep its pools and pg-boss alive for the rest of the test run.
    await api?.close();
    await runtime.close();
    throw error;
  }
  return {
    url: api?.url ?? '',
    config,
    services: runtime.services,
    database,
    dataDir,
    api,
    async createUser({ name = 'tester', admin = false, credits = 1000 } = {}) {
      const user = await createUser(runtime.services.database.db, { name, isAdmin: admin, credits });
      const key = await createApiKey(runtime.services.database.db, user.id);
      return { id: user.id, key: key.key, keyId: key.id };
    },
    async close() {
      await api?.close();
      await workers?.stop();
      await runtime.close();
      if (!opts.database) await database.drop();
      if (!opts.dataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
