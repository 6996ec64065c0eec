// Once per test run: a PostgreSQL server (the embedded one, or DATABASE_URL's) and a template database
// with vidq's migrations and pg-boss's schema, which every test file clones into a database of its own.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PgBoss } from 'pg-boss';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../src/config';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../src/db/embedded';
import { runMigrations } from '../src/db/migrate';
import { createLogger } from '../src/logger';
import { ensureQueues } from '../src/queue/boss';
import { PGBOSS_SCHEMA } from '../src/queue/queues';
import { databaseUrl, freePort } from './helpers/pg-urls';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    pgTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const log = createLogger('silent');
  let serverUrl: string;
  let stopServer = async () => {};
  if (process.env.DATABASE_URL) {
    serverUrl = process.env.DATABASE_URL;
  } else {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-test-pg-'));
    await fs.chmod(dir, 0o777);
    const pg = await startEmbeddedPostgres({
      dir: path.join(dir, 'cluster'),
      port: await freePort(),
      log,
      postgresFlags: ['-c', 'max_connections=400', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    }).catch((error: unknown) => {
      // Its message says what to do; a stack trace would only bury it.
      if (error instanceof EmbeddedPostgresError) error.stack = error.message;
      throw error;
    });
    serverUrl = pg.serverUrl;
    stopServer = async () => {
      await pg.stop();
      await fs.rm(dir, { recursive: true, force: true });
    };
  }

  const template = `vidq_tpl_${randomBytes(4).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${template}"`);
  const templateUrl = databaseUrl(serverUrl, template);
  await runMigrations(templateUrl);
  const boss = new PgBoss({ connectionString: templateUrl, schema: PGBOSS_SCHEMA, supervise: false, schedule: false });
  boss.on('error', () => {});
  await boss.start();
  await ensureQueues(boss, loadConfig({}));
  await boss.stop({ graceful: false, close: true });

  project.provide('pgServerUrl', serverUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await admin.unsafe(`drop database if exists "${template}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
    await stopServer();
  };
}
