// `vidq …` run the way an operator runs it: `node bin/vidq.js` as a child process, on real PostgreSQL.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { gql } from './helpers/graphql';
import { waitFor } from './helpers/jobs';
import { databaseUrl, freePort } from './helpers/pg-urls';
import { isRunning } from './helpers/processes';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIEWER = '{ viewer { id name isAdmin credits } }';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a vidq process: ours minus anything vidq reads, plus `env`. */
function vidqEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'ROLE', 'EMBEDDED_PG_PORT', 'LOG_LEVEL']) delete base[name];
  return { ...base, LOG_LEVEL: 'warn', ...env };
}

/** Runs `vidq ARGS` to completion (asynchronously: the test's own server keeps answering meanwhile). */
function vidq(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/vidq.js', ...args], { cwd: ROOT, env: vidqEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// Each command is a node process of its own (~1.5 s on an idle machine): generous timeouts for busy CI.
describe('vidq users and keys on DATABASE_URL', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let app: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    app = await startTestApp({ database });
    env = { DATABASE_URL: database.url };
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('`users create --json` prints the new user as JSON', async () => {
    const result = await vidq(['users', 'create', '--name', 'a', '--admin', '--credits', '50', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const user = JSON.parse(result.stdout);
    expect(user).toEqual({ id: expect.stringMatching(/^usr_[0-9a-z]{20}$/), name: 'a', isAdmin: true, credits: 50 });
    const [row] = await app.services.database.sql`select name, is_admin, credits from users where id = ${user.id}`;
    expect(row).toEqual({ name: 'a', is_admin: true, credits: 50 });
  });

  it('`users create` without --credits gives the default credits and prints a readable line', async () => {
    const result = await vidq(['users', 'create', '--name', 'Grace Hopper'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created user usr_[0-9a-z]{20} \(Grace Hopper, 100 credits\)\n$/);
  });

  it('`keys create --json` prints the key once, and that key authenticates on the running server at once', async () => {
    const user = JSON.parse((await vidq(['users', 'create', '--name', 'keyholder', '--credits', '7', '--json'], env)).stdout);
    const result = await vidq(['keys', 'create', '--user', user.id, '--json'], env);
    expect(result.code).toBe(0);
    const key = JSON.parse(result.stdout);
    expect(key).toMatchObject({ id: expect.stringMatching(/^key_[0-9a-z]{20}$/), key: expect.stringMatching(/^vq_[A-Za-z0-9_-]{20,}$/) });

    const res = await gql(app.url, key.key, VIEWER);
    expect(res.status).toBe(200);
    expect(res.body.data.viewer).toEqual({ id: user.id, name: 'keyholder', isAdmin: false, credits: 7 });
  });

  it('`keys revoke KEY_ID` makes the key answer 401 on the very next request', async () => {
    const user = JSON.parse((await vidq(['users', 'create', '--name', 'revoked', '--json'], env)).stdout);
    const key = JSON.parse((await vidq(['keys', 'create', '--user', user.id, '--json'], env)).stdout);
    expect((await gql(app.url, key.key, VIEWER)).status).toBe(200);

    const result = await vidq(['keys', 'revoke', key.id], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`revoked ${key.id}`);

    const res = await gql(app.url, key.key, VIEWER);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('INVALID_API_KEY');
  });

  it('`keys revoke` of an unknown or already revoked key fails and says so', async () => {
    const result = await vidq(['keys', 'revoke', 'key_doesnotexist000000000'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("No active key with id 'key_doesnotexist000000000'");
  });

  it('`keys revoke` takes the key itself too, and `keys list` and `users list` show what there is without any secret', async () => {
    const user = JSON.parse((await vidq(['users', 'create', '--name', 'lister', '--json'], env)).stdout);
    const kept = JSON.parse((await vidq(['keys', 'create', '--user', user.id, '--name', 'laptop', '--json'], env)).stdout);
    const leaked = JSON.parse((await vidq(['keys', 'create', '--user', user.id, '--json'], env)).stdout);
    expect((await gql(app.url, leaked.key, VIEWER)).status).toBe(200);

    const revoked = await vidq(['keys', 'revoke', leaked.key], env);
    expect([revoked.code, revoked.stdout.trim()]).toEqual([0, `revoked ${leaked.id} (${leaked.prefix}…)`]);
    expect((await gql(app.url, leaked.key, VIEWER)).status).toBe(401);
    expect((await gql(app.url, kept.key, VIEWER)).status).toBe(200);
    const again = await vidq(['keys', 'revoke', leaked.key], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`No active key ${leaked.prefix}… (unknown or already revoked). \`vidq keys list --user USER_ID\` lists a user's keys.`);
    expect(again.stderr).not.toContain(leaked.key);

    const listed = await vidq(['keys', 'list', '--user', user.id, '--json'], env);
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(keys.map((k) => [k.id, k.prefix, k.name, k.revokedAt === null])).toEqual([
      [leaked.id, leaked.prefix, null, false],
      [kept.id, kept.prefix, 'laptop', true],
    ]);
    expect(keys[1]!.lastUsedAt).not.toBeNull();
    expect(listed.stdout).not.toContain(kept.key);
    const text = (await vidq(['keys', 'list', '--user', user.id], env)).stdout.trim().split('\n');
    expect(text[0]).toMatch(new RegExp(`^${leaked.id}  ${leaked.prefix}…  created \\S+  last used \\S+  revoked \\S+$`));
    expect(text[1]).toMatch(new RegExp(`^${kept.id}  ${kept.prefix}…  "laptop"  created \\S+  last used \\S+  active$`));
    expect(await vidq(['keys', 'list', '--user', 'usr_nobody00000000000000'], env)).toMatchObject({
      code: 1,
      stderr: "No user with id 'usr_nobody00000000000000' exists.\n",
    });

    const everyone = JSON.parse((await vidq(['users', 'list', '--json'], env)).stdout) as Array<{ id: string; name: string }>;
    expect(everyone[0]).toMatchObject({ id: user.id, name: 'lister', isAdmin: false });
    const lines = (await vidq(['users', 'list'], env)).stdout;
    expect(lines).toMatch(new RegExp(`^${user.id}  lister  \\d+ credits  created \\S+$`, 'm'));
  });

  it('`--help` after any command prints the usage and exits 0', async () => {
    for (const args of [
      ['users', '--help'],
      ['users', 'create', '--help'],
      ['keys', 'revoke', '-h'],
    ]) {
      const result = await vidq(args, env);
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain('vidq keys list --user USER_ID');
    }
  });

  it('`keys create` for an unknown user fails clearly and creates nothing', async () => {
    const result = await vidq(['keys', 'create', '--user', 'usr_nobody00000000000000', '--json'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("No user with id 'usr_nobody00000000000000' exists.");
    const rows = await app.services.database.sql`select 1 from api_keys where user_id = 'usr_nobody00000000000000'`;
    expect(rows).toHaveLength(0);
  });

  it.each([
    [['frobnicate'], /Unknown command: frobnicate/],
    [['users'], /Unknown command: users \(users takes create, list\)/],
    [['keys', 'show'], /Unknown command: keys show \(keys takes create, list, revoke\)/],
    [['users', 'create'], /--name is required/],
    [['users', 'create', '--name', 'x', '--credits', 'lots'], /--credits must be a whole number/],
    [['users', 'create', '--name', 'x', '--credits=-5'], /--credits must be a whole number/],
    [['users', 'create', '--nme', 'x'], /Unknown option '--nme'/],
    [['keys', 'create'], /--user is required/],
    [['keys', 'revoke'], /KEY_ID is required/],
    [['keys', 'list'], /--user is required/],
    [['credits', 'add', 'usr_x', '-5'], /AMOUNT must be a whole number of credits/],
    [['credits', 'add', 'usr_x', '5', '--reason=-10 refund', '--bogus'], /Unknown option '--bogus'/], // a reason may start with -1
    [['serve', '--role', 'boss'], /--role must be all, api or worker/],
  ])('bad usage `vidq %s` exits 2, says what is wrong and shows the usage', async (args, problem) => {
    const result = await vidq(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(problem);
    expect(result.stderr).toContain('Usage:');
    expect(result.stderr).toContain('vidq users create --name NAME');
  });

  it('`serve` exits 1 with one line naming PORT, METRICS_PORT or HOST when it cannot listen, and no stack trace', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-port-taken-'));
    try {
      const base = { ...env, DATA_DIR: dataDir, HOST: '127.0.0.1', LOG_LEVEL: 'silent' };
      const api = await vidq(['serve', '--role', 'api'], { ...base, PORT: String(port) });
      expect([api.code, api.stderr.trim()]).toEqual([
        1,
        `PORT=${port}: port ${port} on 127.0.0.1 is already in use (another vidq, or another program). Set PORT to a free port, or stop what holds it.`,
      ]);
      const worker = await vidq(['serve', '--role', 'worker'], { ...base, METRICS_PORT: String(port) });
      expect([worker.code, worker.stderr.trim()]).toEqual([
        1,
        `METRICS_PORT=${port}: port ${port} on 127.0.0.1 is already in use (another vidq, or another program). Set METRICS_PORT to a free port, or stop what holds it.`,
      ]);
      // An address this machine does not have (TEST-NET-1): HOST is named.
      const elsewhere = await vidq(['serve', '--role', 'api'], { ...base, HOST: '192.0.2.1', PORT: '0' });
      expect([elsewhere.code, elsewhere.stderr.trim()]).toEqual([
        1,
        'HOST=192.0.2.1: this machine has no such address to listen on. Set HOST to one of its addresses, or 0.0.0.0 (all of them).',
      ]);
    } finally {
      blocker.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('`serve` exits 1 with one line naming FFMPEG_PATH, FFPROBE_PATH, SCRATCH_DIR or WORKER_PIPELINES when it cannot use them', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-bad-tools-'));
    try {
      const base = { ...env, DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' };
      const ffmpeg = await vidq(['serve', '--role', 'worker'], { ...base, FFMPEG_PATH: '/nonexistent/ffmpeg' });
      expect([ffmpeg.code, ffmpeg.stderr.trim()]).toEqual([
        1,
        "FFMPEG_PATH: /nonexistent/ffmpeg cannot be run (ENOENT). Next step: point FFMPEG_PATH at a working binary, or unset it to use the one on PATH or vidq's bundled build.",
      ]);
      // A program that runs but fails: its exit code (or last line of stderr) is the reason.
      const failing = await vidq(['serve', '--role', 'worker'], { ...base, FFMPEG_PATH: '/bin/false' });
      expect([failing.code, failing.stderr.trim()]).toEqual([
        1,
        "FFMPEG_PATH: /bin/false cannot be run (exit code 1). Next step: point FFMPEG_PATH at a working binary, or unset it to use the one on PATH or vidq's bundled build.",
      ]);
      const notAProgram = path.join(dataDir, 'ffprobe.txt');
      await fs.writeFile(notAProgram, 'not a program', { mode: 0o644 });
      const ffprobe = await vidq(['serve', '--role', 'api'], { ...base, FFPROBE_PATH: notAProgram });
      expect(ffprobe.code).toBe(1);
      expect(ffprobe.stderr.trim()).toMatch(/^FFPROBE_PATH: \S+ffprobe\.txt cannot be run \(EACCES\)\. Next step: point FFPROBE_PATH at a working binary/);
      // A file where the directory should be (as a typo in a path can make).
      const scratch = await vidq(['serve', '--role', 'worker'], { ...base, SCRATCH_DIR: path.join(notAProgram, 'scratch') });
      expect([scratch.code, scratch.stderr.trim()]).toEqual([
        1,
        `SCRATCH_DIR: ${path.join(notAProgram, 'scratch')} cannot be written (ENOTDIR). Next step: point SCRATCH_DIR (default DATA_DIR/scratch) at a writable directory on a local disk.`,
      ]);
      // A setting checked once the deployment's pipelines are known: exit 1 too, as for every setting.
      const pipelines = await vidq(['serve', '--role', 'worker'], { ...base, WORKER_PIPELINES: 'defualt' });
      expect(pipelines.code).toBe(1);
      expect(pipelines.stderr.trim()).toMatch(
        /^Invalid configuration:\n {2}- WORKER_PIPELINES: unknown pipeline "defualt" \(this deployment runs: default, hls\)/,
      );
      for (const result of [ffmpeg, failing, ffprobe, scratch, pipelines]) expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('`serve` and `migrate` exit 1 with one line naming DATABASE_URL and the next step when its database cannot be used', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-bad-database-'));
    try {
      const base = { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' };
      const closed = await freePort();
      const refused = await vidq(['serve'], { ...base, DATABASE_URL: `postgres://vidq:s3cret@127.0.0.1:${closed}/vidq` });
      expect([refused.code, refused.stderr.trim()]).toEqual([
        1,
        `DATABASE_URL=postgres://vidq:***@127.0.0.1:${closed}/vidq: nothing accepts connections at 127.0.0.1:${closed}. Start PostgreSQL there, or fix the host and port (leave DATABASE_URL unset to use the embedded PostgreSQL).`,
      ]);
      const missing = new URL(database.url);
      missing.pathname = '/vidq_no_such_database';
      const absent = await vidq(['migrate'], { ...base, DATABASE_URL: missing.toString() });
      expect(absent.code).toBe(1);
      expect(absent.stderr.trim()).toMatch(
        /^DATABASE_URL=postgres:\/\/\S+\/vidq_no_such_database: database "vidq_no_such_database" does not exist\. Create it \(createdb -h 127\.0\.0\.1 -p \d+ -U \S+ vidq_no_such_database\), or name an existing database\.$/,
      );
      const stranger = new URL(database.url);
      stranger.username = 'vidq_no_such_role';
      const login = await vidq(['migrate'], { ...base, DATABASE_URL: stranger.toString() });
      expect(login.code).toBe(1);
      expect(login.stderr.trim()).toMatch(
        /^DATABASE_URL=postgres:\/\/vidq_no_such_role\S*: PostgreSQL refused the login: .*vidq_no_such_role.*\. Fix the user or password in DATABASE_URL, or allow them in the server's pg_hba\.conf\.$/,
      );
      for (const result of [refused, absent, login]) expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await fs.readdir(dataDir)).toEqual([]); // nothing started, nothing written
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('`vidq help` prints the usage and exits 0', async () => {
    const result = await vidq(['help'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('vidq keys revoke KEY_ID');
  });
});

describe('vidq migrate', { timeout: 120_000 }, () => {
  let serverUrl: string;
  let name: string;

  beforeAll(async () => {
    serverUrl = inject('pgServerUrl');
    name = `vidq_m_${randomBytes(5).toString('hex')}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`); // empty: not cloned from the migrated template
    await admin.end({ timeout: 5 });
  });
  afterAll(async () => {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
  });

  it('creates every table on an empty database, and a second run changes nothing', async () => {
    const env = { DATABASE_URL: databaseUrl(serverUrl, name) };
    const sql = postgres(env.DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const tables = async () =>
        (await sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`).map((r) => r.table_name);
      expect(await tables()).toEqual([]);

      const first = await vidq(['migrate'], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('migrations applied');
      const created = await tables();
      expect(created).toEqual(expect.arrayContaining(['users', 'api_keys', 'videos', 'jobs', 'job_events', 'webhook_deliveries']));
      const applied = await sql`select hash, created_at from drizzle.__drizzle_migrations order by id`;
      expect(applied.length).toBeGreaterThan(0);

      const second = await vidq(['migrate'], env);
      expect(second.code).toBe(0);
      expect(await tables()).toEqual(created);
      expect(await sql`select hash, created_at from drizzle.__drizzle_migrations order by id`).toEqual(applied);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});

describe('vidq serve on the embedded PostgreSQL', () => {
  let dataDir: string;
  let server: ChildProcess | null = null;
  let serverLog = '';
  const pidFile = () => path.join(dataDir, 'postgres', 'postmaster.pid');
  const postmasterPid = () => Number(readFileSync(pidFile(), 'utf8').split('\n')[0]);

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-cli-embedded-'));
    // As root the cluster runs as the "postgres" user, which must be able to reach DATA_DIR.
    await fs.chmod(dataDir, 0o755);
  });

  /** Kills whatever a failed test left behind: the server's process group, then the cluster. */
  async function killLeftovers() {
    if (server && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(-server.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    server = null;
    if (dataDir && existsSync(pidFile())) {
      try {
        process.kill(postmasterPid(), 'SIGQUIT'); // immediate shutdown of the postmaster and its backends
      } catch {
        // already gone
      }
    }
  }
  afterEach(killLeftovers);
  afterAll(async () => {
    await killLeftovers();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  /** Free ports for the server and its cluster (never 5432), and the env that points vidq at them. */
  async function serverEnv() {
    const port = await freePort();
    let pgPort = await freePort();
    while (pgPort === 5432 || pgPort === port) pgPort = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', EMBEDDED_PG_PORT: String(pgPort) };
    return { port, pgPort, env, baseUrl: `http://127.0.0.1:${port}` };
  }

  function startServer(env: Record<string, string>) {
    serverLog = '';
    const child = spawn(process.execPath, ['bin/vidq.js', 'serve'], {
      cwd: ROOT,
      env: vidqEnv({ ...env, LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, for cleanup (the cluster leads a group of its own: killed by its pid file)
    });
    child.stdout!.on('data', (chunk) => (serverLog += chunk));
    child.stderr!.on('data', (chunk) => (serverLog += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    server = child;
    return { child, exited };
  }

  async function waitHealthy(baseUrl: string, exited: Promise<unknown>) {
    let dead = false;
    void exited.then(() => (dead = true));
    await waitFor(
      '/health 200',
      async () => {
        if (dead) throw new Error(`vidq serve exited early:\n${serverLog}`);
        // Refused until it listens: keep polling.
        const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
        return res?.status === 200;
      },
      90_000,
      200,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\n--- server output ---\n${serverLog}`);
    });
  }

  it('starts its own cluster, lets the CLI attach to it, stops it on SIGTERM, and keeps the data across restarts', { timeout: 240_000 }, async () => {
    const { port, pgPort, env, baseUrl } = await serverEnv();

    // First start: initialises the cluster under DATA_DIR.
    const first = startServer(env);
    await waitHealthy(baseUrl, first.exited);
    expect(await portIsOpen(pgPort)).toBe(true);
    // Where to go, and (no user yet) how to get in: said before the start's last line.
    await waitFor('the start logged', async () => serverLog.includes('vidq started'), 10_000);
    expect(serverLog).toContain(`vidq ready: the dashboard at http://127.0.0.1:${port}/, GraphQL at http://127.0.0.1:${port}/graphql`); // HOST's address
    expect(serverLog).toContain('no users yet: create one with `npx vidq users create --name NAME --admin`');
    const serverCluster = postmasterPid();

    // The CLI attaches to the running cluster rather than starting a second one on the same directory.
    const created = await vidq(['users', 'create', '--name', 'embedded', '--credits', '5', '--json'], env);
    expect(created.code).toBe(0);
    const user = JSON.parse(created.stdout);
    const keyResult = await vidq(['keys', 'create', '--user', user.id, '--json'], env);
    expect(keyResult.code).toBe(0);
    const key = JSON.parse(keyResult.stdout);
    expect(postmasterPid()).toBe(serverCluster); // the CLI neither stopped nor replaced the server's cluster

    const res = await gql(baseUrl, key.key, VIEWER);
    expect(res.status).toBe(200);
    expect(res.body.data.viewer).toEqual({ id: user.id, name: 'embedded', isAdmin: false, credits: 5 });

    // SIGTERM: a clean exit, and the cluster is stopped with it.
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile())).toBe(false);
    expect(await portIsOpen(pgPort)).toBe(false);
    expect(await portIsOpen(port)).toBe(false);

    // Second start on the same DATA_DIR: the user and the key are still there.
    const second = startServer(env);
    await waitHealthy(baseUrl, second.exited);
    await waitFor('the start logged', async () => serverLog.includes('vidq started'), 10_000);
    expect(serverLog).not.toContain('no users yet');
    const again = await gql(baseUrl, key.key, VIEWER);
    expect(again.status).toBe(200);
    expect(again.body.data.viewer.id).toBe(user.id);

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile())).toBe(false);
  });

  it('exits non-zero, saying why, when its cluster dies under it, and starts again afterwards', { timeout: 240_000 }, async () => {
    const { port, env, baseUrl } = await serverEnv();
    const run = startServer(env);
    await waitHealthy(baseUrl, run.exited);

    // As an out-of-memory kill would: the postmaster is gone at once, without a shutdown.
    process.kill(postmasterPid(), 'SIGKILL');
    const exited = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
    expect(exited, serverLog).toEqual({ code: 1, signal: null });
    expect(serverLog, serverLog).toMatch(/embedded PostgreSQL exited unexpectedly/);
    expect(serverLog).toMatch(/exiting so that a supervisor restarts it/);
    // Its pg-boss connections hear the server end their sessions while they are being closed: no crash.
    expect(serverLog).not.toMatch(/Unhandled 'error' event|uncaught exception/);
    expect(await portIsOpen(port)).toBe(false);

    // What a supervisor does next works: the cluster recovers from the crash and vidq serves again.
    const restarted = startServer(env);
    await waitHealthy(baseUrl, restarted.exited);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });
  });

  it('takes its cluster down with it when it is killed (SIGKILL): no postgres is left holding the port', { timeout: 240_000 }, async () => {
    const { pgPort, env, baseUrl } = await serverEnv();
    const run = startServer(env);
    await waitHealthy(baseUrl, run.exited);
    const cluster = postmasterPid();
    run.child.kill('SIGKILL');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // setpriv's parent-death signal: a fast shutdown of the cluster, which removes its pid file.
    await waitFor('the orphaned cluster to stop', async () => !existsSync(pidFile()) && !(await portIsOpen(pgPort)) && !isRunning(cluster), 30_000);
    const restarted = startServer(env);
    await waitHealthy(baseUrl, restarted.exited);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 with one line saying what to do when its cluster cannot start (the port is taken), and no stack trace', { timeout: 120_000 }, async () => {
    const { env, pgPort } = await serverEnv();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(pgPort, '127.0.0.1', resolve));
    try {
      const result = await vidq(['serve'], { ...env, DATA_DIR: path.join(dataDir, 'port-taken'), LOG_LEVEL: 'silent' });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toBe(
        `Embedded PostgreSQL could not start: port ${pgPort} is already in use. Next step: set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL to use your own PostgreSQL.`,
      );
    } finally {
      blocker.close();
    }
  });
});
