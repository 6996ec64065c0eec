// An external stage: any program, run under vidq's retries, timeouts, events and webhooks, speaking the
// protocol of ../shared/API.md ("Pipelines"):
//   - it gets {input} (its own copy of the source), an empty {outputDir}, {optionsFile}, {jobId}, the
//     same as VIDQ_* variables (plus VIDQ_STAGE, VIDQ_ATTEMPT, VIDQ_FFMPEG, VIDQ_FFPROBE), and an empty
//     working directory of its own;
//   - a stdout line {"progress": 0.42} is progress; other stdout lines go to the log;
//   - {outputDir}/result.json is the stage's output; every other file there becomes an OutputFile;
//   - exit 0 done, 75 transient, 65 VIDEO_CORRUPT, 64 INVALID_INPUT, killed by a signal transient, any
//     other code INTERNAL_ERROR; the stderr tail is the error's detail;
//   - cancel or timeout: SIGTERM to its process group, SIGKILL 5 s later. No process of it survives.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, copyFile, constants as fsConstants, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeadlineReached, PermanentStageError, StageAbortedError, type StageError, TransientStageError, spawnFailure } from '../errors.ts';
import { deathSignalLauncher } from '../../death-signal.ts';
import type { ExternalStageDefinition } from '../registry/pipelines-file.ts';
import type { OutputFile, Stage, StageContext, StageResult } from '../types.ts';
import { contentTypeOf } from '../content-types.ts';
import { lineReader, tailBuffer } from './lines.ts';

/** After SIGTERM, how long the stage may take to exit before its whole group gets SIGKILL. */
export const KILL_GRACE_MS = 5000;
export const EXIT_TRANSIENT = 75; // EX_TEMPFAIL
export const EXIT_DATA_ERROR = 65; // EX_DATAERR
export const EXIT_USAGE = 64; // EX_USAGE

/** A stage ran past its own timeoutSeconds: the job ends TIMED_OUT (JOB_TIMEOUT), not retried. */
export class StageTimedOut extends DeadlineReached {}

const RESULT_FILE = 'result.json';

export function createExternalStage(def: ExternalStageDefinition): Stage {
  return {
    name: def.name,
    description: def.description || `${path.basename(def.program)} (external)`,
    run: (ctx) => runExternalStage(def, ctx),
  };
}

/** The signal's abort as the stage's error, as a kill of a running stage reports it. */
const aborted = (signal: AbortSignal) => new StageAbortedError(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));

async function runExternalStage(def: ExternalStageDefinition, ctx: StageContext): Promise<StageResult> {
  if (ctx.signal.aborted) throw aborted(ctx.signal);
  // Scratch of this attempt: removed with it (jobs/workspace.ts), whatever happens here.
  const base = path.join(ctx.scratchDir, 'stages', def.name);
  await removeTree(base); // an earlier attempt's, whatever modes it left
  const dirs = { out: path.join(base, 'out'), work: path.join(base, 'work') };
  let outcome: { result: StageResult } | { error: unknown };
  try {
    await Promise.all([mkdir(dirs.out, { recursive: true }), mkdir(dirs.work, { recursive: true })]);
    // Its own copy, so a stage that writes to its input cannot damage the stored upload (a reflink where
    // the filesystem has them, else a copy). A copy cannot be interrupted: a cancel or deadline that
    // came meanwhile is honoured as soon as it ends (runProgram starts nothing on an aborted signal).
    const input = path.join(base, `input${path.extname(ctx.inputPath)}`);
    await copyFile(ctx.inputPath, input, fsConstants.COPYFILE_FICLONE);
    if (ctx.signal.aborted) throw aborted(ctx.signal);
    const optionsFile = path.join(base, 'options.json');
    await writeFile(optionsFile, JSON.stringify(ctx.stageOptions ?? {}));

    const values: Record<string, string> = { input, outputDir: dirs.out, optionsFile, jobId: ctx.jobId };
    const args = def.args.map((arg) => arg.replace(/\{(input|outputDir|optionsFile|jobId)\}/g, (_, key: string) => values[key]));
    const env = {
      ...process.env,
      ...def.env,
      VIDQ_INPUT: input,
      VIDQ_OUTPUT_DIR: dirs.out,
      VIDQ_OPTIONS_FILE: optionsFile,
      VIDQ_JOB_ID: ctx.jobId,
      VIDQ_STAGE: def.name,
      // With VIDQ_JOB_ID, how a worker finds this attempt's processes after its worker died (orphans.ts).
      VIDQ_ATTEMPT: String(ctx.attempt),
      ...(ctx.instance ? { VIDQ_INSTANCE: ctx.instance } : {}),
      // The ffmpeg and ffprobe vidq itself uses (FFMPEG_PATH, PATH or the bundled ones), for stages built on them.
      VIDQ_FFMPEG: ctx.binaries.ffmpeg,
      VIDQ_FFPROBE: ctx.binaries.ffprobe,
    };
    await runProgram(def, args, env, dirs.work, ctx);
    // A stage may leave its files or folders read-only: moving them out needs their folders writable.
    await makeOwnerWritable(dirs.out, true);
    outcome = { result: await collect(def.name, dirs.out, ctx.outputDir) };
  } catch (error) {
    outcome = { error };
  }
  // Cleaning up must not change what the stage came to: a failure here is logged, the attempt's
  // scratch directory (removed with the attempt) being the last resort.
  try {
    await removeTree(base);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    ctx.log.warn({ stage: def.name, dir: base, err: { code: e.code, message: e.message } }, 'could not remove the scratch directory of an external stage');
  }
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}

/**
 * Removes `dir` and all in it, also what the stage made read-only (a folder without write permission
 * keeps its entries for anyone but root): on EACCES/EPERM it gives the owner back rwx on every folder
 * and tries again.
 */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    await makeOwnerWritable(dir, false);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Adds u+rwx to every folder under `dir` (and `dir`), and u+rw to every file when `files`; symbolic
 * links are not followed. Best effort: what cannot be changed is left for the caller's next step to
 * report.
 */
async function makeOwnerWritable(dir: string, files: boolean): Promise<void> {
  const info = await lstat(dir).catch(() => null);
  if (!info?.isDirectory()) return;
  if ((info.mode & 0o700) !== 0o700) await chmod(dir, (info.mode & 0o7777) | 0o700).catch(() => {});
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeOwnerWritable(entryPath, files);
    else if (files && entry.isFile()) {
      const mode = (await lstat(entryPath).catch(() => null))?.mode;
      if (mode !== undefined && (mode & 0o600) !== 0o600) await chmod(entryPath, (mode & 0o7777) | 0o600).catch(() => {});
    }
  }
}

/**
 * The process groups of the stages running in this process. When vidq exits at once (a second signal,
 * a fatal error) it cannot wait for them: their whole groups are killed on the way out, as ffmpeg's
 * children are (ffmpeg.ts). A SIGKILLed worker leaves them to killLeftoverStageProcesses.
 */
const runningGroups = new Set<number>();
process.on('exit', () => {
  for (const group of runningGroups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

/** setTimeout's longest delay; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function runProgram(def: ExternalStageDefinition, args: string[], env: NodeJS.ProcessEnv, cwd: string, ctx: StageContext): Promise<void> {
  // Aborted while its input was copied: start nothing (a listener added now would never be called, the
  // event having fired already). From here to addEventListener below nothing awaits.
  if (ctx.signal.aborted) return Promise.reject(aborted(ctx.signal));
  return new Promise((resolve, reject) => {
    const via = deathSignalLauncher();
    let child: ChildProcess;
    try {
      // detached: the stage leads a new process group, so a kill reaches everything it started.
      child = via
        ? spawn(via, ['--pdeathsig', 'SIGKILL', '--', def.program, ...args], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(def.program, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      return reject(spawnFailure(def.program, error as NodeJS.ErrnoException));
    }
    const group = child.pid;
    if (group !== undefined) runningGroups.add(group);
    const signalGroup = (signal: NodeJS.Signals) => {
      if (group === undefined) return;
      try {
        process.kill(-group, signal);
      } catch {
        // ESRCH: the group is gone already
      }
    };
    let stoppedBy: Error | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: Error) => {
      if (stoppedBy) return;
      stoppedBy = why;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => stop(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason)));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const stageTimer =
      def.timeoutSeconds === null
        ? undefined
        : setTimeout(
            () => stop(new StageTimedOut(`stage ${def.name} ran past its timeoutSeconds of ${def.timeoutSeconds} s`)),
            // The file's check keeps it far below the 2^31-1 ms past which a timer fires at once.
            Math.min(def.timeoutSeconds * 1000, MAX_TIMER_MS),
          );

    const stderr = tailBuffer(20, 4000);
    lineReader(child.stderr!, (line) => stderr.push(line));
    lineReader(child.stdout!, (line) => {
      const progress = parseProgress(line);
      if (progress !== null) ctx.reportProgress(progress);
      else if (line.trim()) ctx.log.info({ stage: def.name, stdout: line.slice(0, 2000) }, 'stage output');
    });

    let spawnError: NodeJS.ErrnoException | null = null;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError ??= error;
      if (child.pid === undefined) finish(null, null);
    });
    let done = false;
    function finish(code: number | null, signal: NodeJS.Signals | null) {
      if (done) return;
      done = true;
      ctx.signal.removeEventListener('abort', onAbort);
      clearTimeout(stageTimer);
      clearTimeout(killTimer);
      // Whatever the stage left running in its group (a background child) goes with it.
      signalGroup('SIGKILL');
      if (group !== undefined) runningGroups.delete(group);
      const tail = stderr.text();
      if (stoppedBy instanceof StageTimedOut) return reject(stoppedBy);
      if (stoppedBy) return reject(new StageAbortedError(stoppedBy));
      if (spawnError && child.pid === undefined) return reject(spawnFailure(def.program, spawnError));
      if (via && (code === 126 || code === 127) && /^setpriv: failed to execute/m.test(tail)) {
        return reject(spawnFailure(def.program, Object.assign(new Error(tail), { code: code === 127 ? 'ENOENT' : 'EACCES' })));
      }
      if (code === 0) return resolve();
      reject(exitError(def.name, code, signal, tail));
    }
    child.once('close', finish);
    // A grandchild holding the pipes would delay 'close': once the stage has exited, stop waiting.
    child.once('exit', () => setTimeout(() => child.stdio.forEach((s) => s?.destroy()), 2000).unref());
  });
}

function parseProgress(line: string): number | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = (JSON.parse(line) as { progress?: unknown }).progress;
    return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : null;
  } catch {
    return null;
  }
}

function exitError(stage: string, code: number | null, signal: NodeJS.Signals | null, stderr: string): StageError {
  const said = stderr ? `: ${stderr}` : '';
  if (signal) return new TransientStageError('SERVICE_UNAVAILABLE', `stage ${stage} was killed by ${signal} (crash or out of memory)${said}`);
  if (code === EXIT_TRANSIENT) return new TransientStageError('SERVICE_UNAVAILABLE', `stage ${stage} asked to be retried (exit 75)${said}`);
  if (code === EXIT_DATA_ERROR) return new PermanentStageError('VIDEO_CORRUPT', `stage ${stage} could not use the video (exit 65)${said}`);
  if (code === EXIT_USAGE) return new PermanentStageError('INVALID_INPUT', `stage ${stage} refused its options (exit 64)${said}`);
  return new PermanentStageError('INTERNAL_ERROR', `stage ${stage} failed with exit code ${code}${said}`);
}

/** result.json becomes the output; every other regular file moves into the job's outputs under <stage>/. */
async function collect(stage: string, stageOut: string, jobOutputDir: string): Promise<StageResult> {
  let output: Record<string, unknown> = {};
  const resultPath = path.join(stageOut, RESULT_FILE);
  const text = await readFile(resultPath, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : Promise.reject(error)));
  if (text !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new PermanentStageError('INTERNAL_ERROR', `stage ${stage} wrote a result.json that is not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new PermanentStageError('INTERNAL_ERROR', `stage ${stage} wrote a result.json that is not a JSON object`);
    }
    output = parsed as Record<string, unknown>;
  }
  const files: OutputFile[] = [];
  const target = path.join(jobOutputDir, stage);
  await rm(target, { recursive: true, force: true }); // an earlier attempt's files
  for (const relative of await regularFiles(stageOut)) {
    if (relative === RESULT_FILE) continue;
    const destination = path.join(target, relative);
    await mkdir(path.dirname(destination), { recursive: true });
    await move(path.join(stageOut, relative), destination);
    const { size } = await stat(destination);
    files.push({ kind: stage, path: path.posix.join(stage, ...relative.split(path.sep)), contentType: contentTypeOf(relative), sizeBytes: size });
  }
  return { output, files };
}

/** Regular files under dir, recursively (symbolic links are not followed: they are not collected). */
async function regularFiles(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) found.push(...(await regularFiles(dir, relative)));
    else if (entry.isFile()) found.push(relative);
  }
  return found.sort();
}

async function move(from: string, to: string) {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to); // scratch and outputs on different filesystems
    await rm(from, { force: true });
  }
}
