// Child processes for benchmarks: each server runs in its own process, so the load generator never
// shares an event loop with the server it measures.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export { freePort } from '../../test/helpers/pg-urls';

/** Polls until check() returns something other than null. */
export async function waitFor<T>(what: string, check: () => Promise<T | null>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL to the whole process group if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

type StdioTarget = 'pipe' | 'inherit' | 'ignore' | number;

/** Spawns `node ARGS` in its own process group. */
export function spawnNode(args: string[], opts: { env?: NodeJS.ProcessEnv; stdout?: StdioTarget; stderr?: StdioTarget } = {}): Child {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', opts.stdout ?? 'pipe', opts.stderr ?? 'inherit'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    process: child,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone already
        }
      }, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs `node ARGS` to completion and returns its output; throws on a non-zero exit. */
export function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

/** Reads the first line a child prints on stdout (a JSON "ready" message). */
export function firstLine(child: Child): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const newline = buffer.indexOf('\n');
      if (newline >= 0) {
        child.process.stdout!.off('data', onData);
        resolve(buffer.slice(0, newline));
      }
    };
    child.process.stdout!.on('data', onData);
    void child.exited.then((code) => reject(new Error(`child exited (${code}) before it was ready`)));
  });
}

/** Runs a bench's main(): exit code 0 when it met its target, 1 below it or on error. Cleanup always runs, Ctrl-C included. */
export function runBench(main: () => Promise<boolean>, cleanup: () => Promise<unknown>) {
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  main()
    .then(async (ok) => {
      await cleanup();
      process.exitCode = ok ? 0 : 1;
    })
    .catch(async (error) => {
      console.error(error);
      await cleanup();
      process.exitCode = 1;
    });
}
