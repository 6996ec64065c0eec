// Runs ffmpeg/ffprobe as child processes that never outlive their caller: killed at once on abort,
// on a throwing callback, when Node exits, and (on Linux) when the worker itself is killed. Progress
// comes from `-progress` on fd 3 so stdout stays free for data (raw frames) and stderr for logs.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StageAbortedError, TransientStageError, classifyExit, spawnFailure } from './errors.ts';
import { deathSignalLauncher, launchFailure } from '../death-signal.ts';

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with the child's pid right after it starts (tests assert it is gone after abort). */
  onSpawn?(pid: number): void;
  /** Every complete stderr line, for parsers (silencedetect, ebur128, metadata=print). */
  onStderrLine?(line: string): void;
  /** Keep stdout (raw frames, JSON); otherwise it is discarded. */
  captureStdout?: boolean;
  /** A failure of this run means the input is bad (VIDEO_CORRUPT) rather than an internal error. */
  exitMeansCorrupt?: boolean;
  /** Fed to the child's stdin (for `-i pipe:0`); once the child is gone the rest is dropped. */
  input?: Readable;
}

export interface FfmpegOptions extends RunOptions {
  ffmpeg: string;
  /** Expected output duration, to turn out_time into a 0..1 fraction. */
  durationSeconds?: number;
  onProgress?(fraction: number): void;
}

export interface RunResult {
  /** Bounded tail of stderr. */
  stderr: string;
  stdout?: Buffer;
  /** Last values ffmpeg reported through -progress (null when it never said). */
  frames: number | null;
  outTimeSeconds: number | null;
}

const STDERR_TAIL_LINES = 200;
const STDERR_TAIL_CHARS = 64 * 1024;
const MAX_STDOUT = 64 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 200;

const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess) {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function lines(stream: Readable, onLine: (line: string) => void) {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n|\r/);
    partial = parts.pop() ?? '';
    parts.forEach(onLine);
  });
  stream.on('end', () => partial && onLine(partial));
}

/** Spawns `bin`; with onProgressLine it also opens fd 3 (for `-progress pipe:3`) and feeds its key=value lines. */
export function runProcess(
  bin: string,
  args: string[],
  opts: RunOptions & { onProgressLine?(key: string, value: string): void } = {},
): Promise<{ stderr: string; stdout?: Buffer }> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(new StageAbortedError(signal.reason));
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    const via = deathSignalLauncher();
    try {
      const stdio = [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(opts.onProgressLine ? ['pipe' as const] : [])] as const;
      // setpriv execs the binary in its own process: the pid, pipes and exit status are the binary's.
      // With it, the binary also leads a process group of its own: a signal to vidq's group (Ctrl-C in
      // a terminal, `kill -- -PGID`) is vidq's to handle, which stops the job in order and hands it back
      // without using a retry. Killed with it, the binary would fail the attempt. Without setpriv it
      // stays in vidq's group, which is then the only way it ends with a killed vidq.
      child = via ? spawn(via, ['--pdeathsig', 'SIGKILL', '--', bin, ...args], { stdio: [...stdio], detached: true }) : spawn(bin, args, { stdio: [...stdio] });
    } catch (err) {
      return reject(spawnFailure(bin, err as NodeJS.ErrnoException));
    }
    let failure: unknown = null; // first reason we killed it ourselves
    const kill = (why: unknown) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    const guard =
      <A extends unknown[]>(fn: (...a: A) => void) =>
      (...a: A) => {
        try {
          fn(...a);
        } catch (err) {
          kill(err);
        }
      };
    const onAbort = () => kill(new StageAbortedError(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });

    const tail: string[] = [];
    let tailChars = 0;
    lines(
      child.stderr!,
      guard((line: string) => {
        tail.push(line);
        tailChars += line.length + 1;
        while (tail.length > STDERR_TAIL_LINES || tailChars > STDERR_TAIL_CHARS) tailChars -= tail.shift()!.length + 1;
        opts.onStderrLine?.(line);
      }),
    );
    const out: Buffer[] = [];
    let outBytes = 0;
    child.stdout!.on('data', (b: Buffer) => {
      if (!opts.captureStdout) return;
      outBytes += b.length;
      if (outBytes > MAX_STDOUT) kill(new TransientStageError('INTERNAL_ERROR', `output larger than ${MAX_STDOUT} bytes`));
      else out.push(b);
    });
    const progressStream = child.stdio[3] as Readable | undefined;
    if (progressStream && opts.onProgressLine) {
      const onLine = opts.onProgressLine;
      lines(
        progressStream,
        guard((line: string) => {
          const eq = line.indexOf('=');
          if (eq > 0) onLine(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
        }),
      );
    }

    let spawnError: NodeJS.ErrnoException | null = null;
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError ??= err;
      if (child.pid === undefined) finish(null, null); // never started: no 'close' to wait for
    });
    if (opts.input && child.stdin) {
      // ffmpeg stops reading once it has what it needs (-t): the rest of the input is not its concern.
      child.stdin.on('error', () => {});
      opts.input.pipe(child.stdin);
      child.once('exit', () => opts.input!.unpipe(child.stdin!));
    }
    if (child.pid !== undefined) {
      track(child);
      guard((pid: number) => opts.onSpawn?.(pid))(child.pid);
    }
    // A grandchild holding our pipes would delay 'close' forever; once the child is gone, stop waiting.
    child.once('exit', () => setTimeout(() => child.stdio.forEach((s) => s?.destroy()), 2000).unref());

    let done = false;
    function finish(code: number | null, sig: NodeJS.Signals | null) {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      const stderr = tail.join('\n');
      if (failure) return reject(failure);
      if (spawnError && child.pid === undefined) return reject(spawnFailure(bin, spawnError));
      const launch = via ? launchFailure(code, stderr) : null;
      if (launch) return reject(spawnFailure(bin, Object.assign(new Error(stderr), { code: launch })));
      if (code === 0) return resolve({ stderr, stdout: opts.captureStdout ? Buffer.concat(out) : undefined });
      reject(classifyExit({ bin, args, exitCode: code, signal: sig, stderr, exitMeansCorrupt: opts.exitMeansCorrupt }));
    }
    child.once('close', finish);
  });
}

/** Runs ffmpeg with progress on fd 3, reported monotonically as 0..1 at most ~5 times a second. */
export async function runFfmpeg(args: string[], opts: FfmpegOptions): Promise<RunResult> {
  let frames: number | null = null;
  let outTime: number | null = null;
  let last = -1;
  let lastAt = 0;
  const duration = opts.durationSeconds ?? 0;
  const report = (final: boolean) => {
    if (!opts.onProgress || !(duration > 0) || outTime === null) return;
    const f = Math.min(1, Math.max(0, outTime / duration));
    const now = Date.now();
    if (f > last && (final || now - lastAt >= PROGRESS_INTERVAL_MS)) {
      last = f;
      lastAt = now;
      opts.onProgress(f);
    }
  };
  const result = await runProcess(opts.ffmpeg, ['-hide_banner', '-nostdin', '-nostats', '-progress', 'pipe:3', ...args], {
    ...opts,
    onProgressLine(key, value) {
      // out_time_ms is microseconds too (a historical ffmpeg bug); old builds only print that one.
      if (key === 'out_time_us' || key === 'out_time_ms') {
        const us = Number(value);
        if (Number.isFinite(us) && us >= 0) outTime = us / 1e6;
      } else if (key === 'frame') {
        const n = Number(value);
        if (Number.isFinite(n)) frames = n;
      } else if (key === 'progress') {
        report(value === 'end');
      }
    },
  });
  return { ...result, frames, outTimeSeconds: outTime };
}

/** Runs ffprobe with JSON output and returns it parsed. */
export async function runFfprobe(args: string[], opts: RunOptions & { ffprobe: string }): Promise<unknown> {
  const { stdout } = await runProcess(opts.ffprobe, ['-v', 'error', '-print_format', 'json', ...args], {
    ...opts,
    captureStdout: true,
  });
  try {
    return JSON.parse(stdout!.toString('utf8'));
  } catch {
    throw new TransientStageError('INTERNAL_ERROR', 'ffprobe printed invalid JSON');
  }
}

/**
 * An input or output for ffmpeg, which treats "name:rest" as a protocol: the file: prefix makes any path
 * a plain local file. An http(s) URL (a presigned object, bench/source-fetch.ts) is passed as it is.
 */
export const fileArg = (p: string) => (/^https?:\/\//.test(p) ? p : `file:${p}`);
