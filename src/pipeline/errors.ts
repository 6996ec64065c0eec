// Errors the job system classifies: `retryable` decides whether another attempt can help, `code`
// is from the shared catalog, `detail` says what the decoder said (never a stack).
import path from 'node:path';
import { StorageUnavailableError } from '../storage/types';
import { ERROR_CATALOG, type ErrorCode } from '../errors/catalog';

const MAX_DETAIL = 1000;

export class StageError extends Error {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly retryable: boolean;

  constructor(code: ErrorCode, detail: string, retryable: boolean, message?: string) {
    super(message ?? ERROR_CATALOG[code].message);
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.retryable = retryable;
  }

  toJSON() {
    return { code: this.code, message: this.message, detail: this.detail, retryable: this.retryable };
  }
}

/** Retrying cannot help: the input is corrupt (VIDEO_CORRUPT) or the options are invalid (INVALID_INPUT). */
export class PermanentStageError extends StageError {
  constructor(code: ErrorCode, detail: string, message?: string) {
    super(code, detail, false, message);
  }
}

/** The machine, not the input, failed (crash, OOM kill, full disk, spawn failure): try again. */
export class TransientStageError extends StageError {
  constructor(code: ErrorCode, detail: string, message?: string) {
    super(code, detail, true, message);
  }
}

/** The job's time limit passed: what the job system aborts a running stage with (jobs/handler.ts). */
export class DeadlineReached extends Error {}

/**
 * True when a stage was stopped by a time limit: the job's deadline, or an AbortSignal.timeout() (a
 * DOMException, which has no class of its own to test), directly or as the cause of an AbortError.
 */
function isTimeout(reason: unknown): boolean {
  if (reason instanceof DeadlineReached) return true;
  if (reason instanceof DOMException) return reason.name === 'TimeoutError';
  return reason instanceof Error && reason.cause !== undefined && isTimeout(reason.cause);
}

/**
 * The stage's AbortSignal fired. Not a verdict on the input: the job system knows why it aborted
 * (timeout, cancel, shutdown) and should check for this class before looking at `retryable`.
 */
export class StageAbortedError extends StageError {
  readonly reason: unknown;
  constructor(reason: unknown) {
    const timedOut = isTimeout(reason);
    const why = reason instanceof Error ? reason.message : reason === undefined ? 'aborted' : String(reason);
    super(timedOut ? 'JOB_TIMEOUT' : 'JOB_FAILED', `stopped: ${why}`, false, `The stage was stopped: ${why}`);
    this.reason = reason;
  }
}

const NOISE = /^(Last message repeated|Press \[q\]|frame=|size=|video:\d|Conversion failed!|\s*$)/;

/** The last meaningful stderr lines, at most ~1000 chars, with absolute file paths cut to basenames. */
export function summarizeStderr(stderr: string, args: readonly string[] = []): string {
  const lines = stderr.split(/\r?\n|\r/).filter((l) => !NOISE.test(l));
  let text = lines.slice(-8).join('\n').trim();
  // Users see the detail: name their file, not where the server keeps it.
  for (const a of args) {
    const p = a.startsWith('file:') ? a.slice(5) : a;
    if (path.isAbsolute(p) && p.length > 1) text = text.split(a).join(path.basename(p)).split(p).join(path.basename(p));
  }
  return text.length > MAX_DETAIL ? `…${text.slice(-MAX_DETAIL)}` : text;
}

const DISK_FULL = /No space left on device|ENOSPC|Disk quota exceeded/i;
const CORRUPT =
  /Invalid data found when processing input|moov atom not found|partial file|Error while decoding|error while decoding|Invalid NAL|Invalid EBML|Read error|File ended prematurely|could not find codec parameters|Header missing|Truncating packet/;

/**
 * Errors of the machine running ffmpeg (threads, file descriptors), not of the data. They win over the
 * decoder's complaints ("Error while decoding stream #0:0: …").
 */
const MACHINE: ReadonlyArray<[RegExp, string]> = [
  [/Resource temporarily unavailable/, 'out of processes or threads'],
  [/Too many open files/, 'out of file descriptors'],
];
/**
 * Out of memory: the machine's failure for a program that writes (an encode), but not for one that only
 * reads the input: a corrupt header (an absurd sample count in an MP4's stts or stco) makes ffprobe and
 * the decoders ask for memory no machine has, and they say exactly this. A machine really out of memory
 * has its processes killed (a signal: transient anyway).
 */
const OUT_OF_MEMORY = /Cannot allocate memory/;
/** An I/O error (a failing disk or mount) counts only when the decoder said nothing of the data. */
const IO_ERROR = /Input\/output error/;

/**
 * What went wrong on the machine, or null. A local file it was given that is missing or unreadable
 * (ffmpeg names the argument: "file:/…/input.mp4: No such file or directory") is the service's fault
 * too: the file is not there, whatever the video holds.
 */
function machineFailure(info: ExitInfo): string | null {
  for (const [pattern, what] of MACHINE) if (pattern.test(info.stderr)) return what;
  if (OUT_OF_MEMORY.test(info.stderr) && !info.exitMeansCorrupt) return 'out of memory';
  if (IO_ERROR.test(info.stderr) && !CORRUPT.test(info.stderr)) return 'an I/O error reading or writing a file';
  for (const arg of info.args) {
    if (!arg.startsWith('file:') && !path.isAbsolute(arg)) continue;
    if (info.stderr.includes(`${arg}: No such file or directory`)) return 'a file it was given is missing';
    if (info.stderr.includes(`${arg}: Permission denied`)) return 'a file it was given cannot be opened';
  }
  return null;
}

export interface ExitInfo {
  bin: string;
  args: readonly string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /**
   * Callers that only read the input (ffprobe, decode checks) treat any failure as a bad input, unless
   * ffmpeg said the machine failed (out of memory, threads, file descriptors; an I/O error; the input
   * file missing).
   */
  exitMeansCorrupt?: boolean;
}

/** Turns a failed ffmpeg/ffprobe run we did not abort into the right StageError. */
export function classifyExit(info: ExitInfo): StageError {
  const said = summarizeStderr(info.stderr, info.args);
  const name = path.basename(info.bin);
  if (info.signal) {
    return new TransientStageError('SERVICE_UNAVAILABLE', `${name} was killed by ${info.signal} (crash or out of memory)${said ? `: ${said}` : ''}`);
  }
  if (DISK_FULL.test(info.stderr)) return new TransientStageError('SERVICE_UNAVAILABLE', `disk full: ${said}`);
  // Before the verdict on the data: a decode that ran out of memory says "Error while decoding …: Cannot
  // allocate memory", which names the machine's state, not the video's.
  const machine = machineFailure(info);
  if (machine) return new TransientStageError('SERVICE_UNAVAILABLE', `${name} failed for a reason of this machine, not of the video (${machine}): ${said}`);
  if (info.exitMeansCorrupt || CORRUPT.test(info.stderr)) {
    return new PermanentStageError('VIDEO_CORRUPT', said || `${name} could not read the file`);
  }
  return new TransientStageError('INTERNAL_ERROR', `${name} exited with code ${info.exitCode}${said ? `: ${said}` : ''}`);
}

/** A process we could not start (EAGAIN, ENOENT, EMFILE…): the service, not the input, is at fault. */
export function spawnFailure(bin: string, err: NodeJS.ErrnoException): StageError {
  return new TransientStageError('SERVICE_UNAVAILABLE', `could not start ${path.basename(bin)}: ${err.code ?? err.message}`);
}

/** Normalises anything a stage throws, so the job system always gets a StageError. */
export function toStageError(err: unknown): StageError {
  if (err instanceof StageError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (err instanceof StorageUnavailableError) return new TransientStageError('SERVICE_UNAVAILABLE', err.message.slice(0, MAX_DETAIL));
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return new TransientStageError('SERVICE_UNAVAILABLE', `disk full (${e.code})`);
  if (e?.name === 'AbortError' || isTimeout(err)) return new StageAbortedError(err);
  const detail = e?.code ? `${e.code}${e.syscall ? ` in ${e.syscall}` : ''}` : String(e?.message ?? err).slice(0, MAX_DETAIL);
  return new TransientStageError('INTERNAL_ERROR', detail);
}
