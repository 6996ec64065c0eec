// Finds the database (DATABASE_URL, or the embedded cluster under DATA_DIR), migrates it, connects.
import { type Config, dataPaths } from '../config';
import type { Logger } from '../logger';
import { connectDatabase, type Database } from './client';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded';
import { runMigrations } from './migrate';
import { checkDatabaseReachable } from './reachable';

export interface OpenedDatabase {
  database: Database;
  embedded: EmbeddedPostgresHandle | null;
  close(): Promise<void>;
}

export async function resolveDatabaseUrl(config: Config, log: Logger) {
  if (config.databaseUrl) {
    await checkDatabaseReachable(config.databaseUrl);
    return { url: config.databaseUrl, embedded: null };
  }
  const embedded = await startEmbeddedPostgres({ dir: dataPaths(config).postgres, port: config.embeddedPgPort, log });
  return { url: embedded.url, embedded };
}

export async function openDatabase(config: Config, log: Logger, opts: { migrate?: boolean; poolSize?: number } = {}): Promise<OpenedDatabase> {
  const { url, embedded } = await resolveDatabaseUrl(config, log);
  try {
    if (opts.migrate !== false) await runMigrations(url);
    const database = connectDatabase(url, { max: opts.poolSize, applicationName: `vidq-${config.role}` });
    return {
      database,
      embedded,
      async close() {
        await database.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
