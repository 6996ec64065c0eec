// What every domain is handed at start: the validated config, the database, the queue, the logger.
// Built once in main.ts (or by a test), never imported as a global.
import type { PgBoss } from 'pg-boss';
import type { Config } from './config';
import type { Database } from './db/client';
import type { ProcessLease } from './db/process-lease';
import type { Logger } from './logger';
import type { StageRegistry } from './pipeline/registry/index';
import type { Storage } from './storage/types';

export interface Services {
  config: Config;
  database: Database;
  boss: PgBoss;
  log: Logger;
  /** Where uploads and outputs live (STORAGE_DRIVER). */
  storage: Storage;
  /** The stages and pipelines this deployment runs (built-in and PIPELINES_FILE's). */
  stages: StageRegistry;
  /** This process's lease (a session advisory lock): how other processes know it is alive. */
  lease: ProcessLease;
}
