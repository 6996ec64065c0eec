// A fresh, migrated database for a benchmark: on DATABASE_URL's server when set, else on an embedded
// PostgreSQL in a temporary directory. The bench owns it and removes it at the end.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { runMigrations } from '../../src/db/migrate';
import { createLogger } from '../../src/logger';
import { freePort } from './process';

export interface BenchDatabase {
  url: string;
  /** Where a vidq under test may keep its files. */
  dataDir: string;
  close(): Promise<void>;
}

export async function benchDatabase(): Promise<BenchDatabase> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-bench-'));
  await fs.chmod(work, 0o777); // as root, the embedded cluster runs as "postgres" and must reach it
  const dataDir = path.join(work, 'data');
  await fs.mkdir(dataDir);
  let serverUrl: string;
  let stopServer = async () => {};
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    const pg = await startEmbeddedPostgres({
      dir: path.join(work, 'pg'),
      port: await freePort(),
      log: createLogger('silent'),
      postgresFlags: ['-c', 'max_connections=300'],
    });
    serverUrl = pg.serverUrl;
    stopServer = () => pg.stop();
  }
  const name = `vidq_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  return {
    url: url.toString(),
    dataDir,
    async close() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
      await admin.end({ timeout: 5 });
      await stopServer();
      await fs.rm(work, { recursive: true, force: true });
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
