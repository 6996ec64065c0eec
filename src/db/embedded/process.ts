// Runs the PostgreSQL programs: initdb once per cluster, then the server. Every way either can fail
// (a program that cannot be executed, a full disk, a port in use) ends as an EmbeddedPostgresError
// with PostgreSQL's own reason, never as an unhandled 'error' event of a child process.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { launchFailure, withDeathSignal } from '../../death-signal';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { PostgresBinaries } from './binaries';
import { EmbeddedPostgresError, USE_YOUR_OWN } from './errors';

const run = promisify(execFile);

/** The system user PostgreSQL runs as when vidq runs as root (PostgreSQL refuses to run as root). */
export interface RunAs {
  uid: number;
  gid: number;
}

async function idOf(flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await run('id', [flag, 'postgres']);
  return Number.parseInt(stdout, 10);
}

export async function postgresUser(log: Logger): Promise<RunAs> {
  try {
    return { uid: await idOf('-u'), gid: await idOf('-g') };
  } catch {
    // Not there yet: create it as PostgreSQL's own packages do.
  }
  try {
    await run('groupadd', ['--system', 'postgres']).catch(() => {}); // the group may exist alone
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    log.info('created the "postgres" system user for the embedded PostgreSQL');
    return { uid: await idOf('-u'), gid: await idOf('-g') };
  } catch (error) {
    throw new EmbeddedPostgresError(
      `running as root, and the "postgres" system user PostgreSQL must run as could not be created (${(error as Error).message.split('\n')[0]})`,
      `create it (useradd --system postgres), run vidq as an ordinary user, ${USE_YOUR_OWN}`,
    );
  }
}

/** The line of PostgreSQL's output that says why it failed, e.g. "FATAL: could not create lock file…". */
function reasonIn(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const fatal = lines.find((l) => /\b(FATAL|PANIC|ERROR)\b|^initdb: error:|could not/.test(l));
  return (fatal ?? lines.at(-1) ?? 'no output').replace(/^\S*\s*(FATAL|PANIC|ERROR):\s*/, '');
}

function spawnFailure(program: string, error: NodeJS.ErrnoException): EmbeddedPostgresError {
  if (error.code === 'EACCES') {
    return new EmbeddedPostgresError(
      `${program} cannot be executed (permission denied)`,
      `make the directories above it enterable and the file executable (chmod), ${USE_YOUR_OWN}`,
      { cause: error },
    );
  }
  return new EmbeddedPostgresError(`${program} could not be run (${error.code ?? error.message})`, `run \`npm install\` again, ${USE_YOUR_OWN}`, {
    cause: error,
  });
}

interface Spawned {
  child: ChildProcess;
  /** stderr and stdout so far, for the reason of a failure. */
  output(): string;
  /** Settles when the child exits (or could not be started). */
  exited: Promise<{ code: number | null; signal: string | null; error?: NodeJS.ErrnoException }>;
}

function start(program: string, args: string[], runAs: RunAs | null, env: NodeJS.ProcessEnv, log: Logger): Spawned {
  // In a process group of its own: Ctrl-C in a terminal (a signal to vidq's whole group) must not stop
  // the database under the shutdown it starts, which hands running jobs back and stops it last. And
  // through setpriv where it works, so that it still stops ("fast": SIGINT) when vidq dies without
  // stopping it (SIGKILL, or a signal before vidq handles signals).
  const [file, argv] = withDeathSignal('SIGINT', program, args);
  const child = spawn(file, argv, {
    ...(runAs ?? {}),
    cwd: '/',
    env: { ...process.env, ...env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-8192);
    log.trace({ postgres: text.trim() }, 'postgres');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: string | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => output, exited };
}

/**
 * initdb, with the password handed over in a file only the cluster's owner can read, inside a private
 * directory beside the cluster that is removed again (never in /tmp).
 */
export async function initCluster(opts: { binaries: PostgresBinaries; dir: string; user: string; password: string; runAs: RunAs | null; log: Logger }) {
  const { dir, runAs } = opts;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const secretDir = await fs.mkdtemp(path.join(path.dirname(dir), '.vidq-initdb-'));
  const pwfile = path.join(secretDir, 'password');
  try {
    await fs.writeFile(pwfile, `${opts.password}\n`, { mode: 0o600 });
    if (runAs) {
      for (const p of [dir, secretDir, pwfile]) await fs.chown(p, runAs.uid, runAs.gid);
    }
    const initdb = start(
      opts.binaries.initdb,
      [`--pgdata=${dir}`, '--auth=scram-sha-256', `--username=${opts.user}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--lc-messages=C'],
      runAs,
      {},
      opts.log,
    );
    const { code, signal, error } = await initdb.exited;
    if (error) throw spawnFailure(opts.binaries.initdb, error);
    const launch = launchFailure(code, initdb.output());
    if (launch) throw spawnFailure(opts.binaries.initdb, Object.assign(new Error(initdb.output()), { code: launch }));
    if (code !== 0) {
      throw new EmbeddedPostgresError(
        `initdb failed in ${dir} (${signal ? `killed by ${signal}` : `exit code ${code}`}): ${reasonIn(initdb.output())}`,
        `check that the directory is writable and the disk has room, then remove the half-made ${dir}; ${USE_YOUR_OWN}`,
      );
    }
  } finally {
    await fs.rm(secretDir, { recursive: true, force: true });
  }
}

export interface RunningServer {
  child: ChildProcess;
  exited: Spawned['exited'];
  stop(): Promise<void>;
}

/** Starts the server and waits until it accepts connections (or says why it will not). */
export async function startServer(opts: {
  binaries: PostgresBinaries;
  dir: string;
  port: number;
  flags: string[];
  runAs: RunAs | null;
  log: Logger;
  timeoutMs?: number;
}): Promise<RunningServer> {
  const server = start(
    opts.binaries.postgres,
    ['-D', opts.dir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'lc_messages=C', ...opts.flags],
    opts.runAs,
    {},
    opts.log,
  );
  const ready = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      if (server.output().includes('ready to accept connections') || chunk.includes('ready to accept connections')) resolve();
    };
    server.child.stderr?.on('data', onData);
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.timeoutMs ?? 60_000);
  });
  const outcome = await Promise.race([ready.then(() => 'ready' as const), server.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'ready') {
    return {
      child: server.child,
      exited: server.exited,
      async stop() {
        if (server.child.exitCode !== null || server.child.signalCode !== null) return;
        server.child.kill('SIGINT'); // "fast" shutdown: aborts transactions, writes a checkpoint
        await server.exited;
      },
    };
  }
  if (outcome === 'timeout') {
    server.child.kill('SIGKILL');
    throw new EmbeddedPostgresError(
      `the server in ${opts.dir} did not become ready within ${(opts.timeoutMs ?? 60_000) / 1000} s`,
      `look at the log with LOG_LEVEL=trace, ${USE_YOUR_OWN}`,
    );
  }
  if (outcome.error) throw spawnFailure(opts.binaries.postgres, outcome.error);
  const launch = launchFailure(outcome.code, server.output());
  if (launch) throw spawnFailure(opts.binaries.postgres, Object.assign(new Error(server.output()), { code: launch }));
  const output = server.output();
  if (/could not bind|Address already in use/i.test(output)) {
    throw new EmbeddedPostgresError(`port ${opts.port} is already in use`, `set EMBEDDED_PG_PORT to a free port, ${USE_YOUR_OWN}`);
  }
  throw new EmbeddedPostgresError(
    `the server in ${opts.dir} exited (${outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`}): ${reasonIn(output)}`,
    `fix what PostgreSQL says above (permissions, disk space, a damaged data directory), ${USE_YOUR_OWN}`,
  );
}
