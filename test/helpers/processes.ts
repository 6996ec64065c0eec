// vidq server processes for tests that need several of them, or need to kill one.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface VidqProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

const running = new Set<VidqProcess>();

/** `ownProcessGroup`: vidq leads a process group, as in a terminal, for signals to the whole group. */
export function spawnVidq(args: string[], env: Record<string, string>, opts: { ownProcessGroup?: boolean } = {}): VidqProcess {
  const child = spawn(process.execPath, ['bin/vidq.js', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownProcessGroup ?? false,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const proc: VidqProcess = {
    child,
    output: () => out,
    exited,
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/**
 * Waits until the process answers `GET <url>/health` with 200; fails at once, with what it printed, if
 * it exits first.
 */
export async function untilServing(proc: VidqProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`the vidq process exited: ${proc.output()}`);
    if ((await fetch(`${url}/health`).catch(() => null))?.status === 200) return;
    if (Date.now() > until) throw new Error(`${url}/health did not answer 200 within ${timeoutMs} ms: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Kills whatever a test left running (call from afterAll). */
export async function killAllVidq() {
  const all = [...running];
  for (const p of all) p.kill('SIGKILL');
  await Promise.all(all.map((p) => p.exited));
}

/**
 * Whether process `pid` is running. A killed process whose parent has not reaped it yet (a zombie:
 * orphans wait for init here) is not: process.kill(pid, 0) would still say it exists.
 */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
