// An external stage run directly (createExternalStage, real processes), at the edges of its run: a cancel
// or deadline that comes before the program has started, and a stage that leaves read-only folders
// behind (its outcome is its own, not its clean-up's).
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadlineReached, StageAbortedError } from '../../src/pipeline/errors.ts';
import { createExternalStage } from '../../src/pipeline/external/stage.ts';
import type { StageContext } from '../../src/pipeline/types.ts';
import { isRunning } from '../helpers/processes';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures');
let dir: string;
let input: string;
let runs = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidq-stage-edges-'));
  // Open to the unprivileged user the read-only tests run their stage as (see runAsUser).
  await chmod(dir, 0o777);
  input = path.join(dir, 'input.mp4');
  // Not a video: external stages get any file; a few MB so that copying it takes a moment.
  await writeFile(input, Buffer.alloc(8 * 1024 * 1024, 7), { mode: 0o644 });
});
afterAll(async () => {
  // What the tests made read-only (and the stage as another user) must not keep this from going.
  await new Promise((resolve) => spawn('chmod', ['-R', 'u+rwx', dir]).on('exit', resolve));
  await rm(dir, { recursive: true, force: true });
});

/** A fresh job: its own output and scratch directories, open to any user. */
async function freshJob() {
  const job = path.join(dir, `job-${++runs}`);
  const outputDir = path.join(job, 'out');
  const scratchDir = path.join(job, 'scratch');
  await mkdir(outputDir, { recursive: true });
  await mkdir(scratchDir, { recursive: true });
  for (const d of [job, outputDir, scratchDir]) await chmod(d, 0o777);
  return { outputDir, scratchDir };
}

describe('an external stage aborted before its program starts', () => {
  it.each([
    ['a cancel', new Error('cancelled by the user'), 'JOB_FAILED'],
    ['the job’s deadline', new DeadlineReached('deadline of 60 s passed'), 'JOB_TIMEOUT'],
  ])('stops at once on %s that came while its input was being copied, and starts nothing', async (_what, reason, code) => {
    const { outputDir, scratchDir } = await freshJob();
    const pidFile = path.join(dir, `started-${runs}`);
    const script = path.join(dir, `sleeper-${runs}.sh`);
    // Records its pid, then sleeps far longer than the test waits.
    await writeFile(script, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`, { mode: 0o755 });
    const stage = createExternalStage({
      name: 'sleeper',
      program: script,
      args: [],
      description: '',
      timeoutSeconds: null,
      env: {},
      optionsSchema: null,
      validateOptions: null,
    });
    const controller = new AbortController();
    const ctx = {
      jobId: `job-${runs}`,
      attempt: 1,
      inputPath: input,
      outputDir,
      stageOptions: {},
      scratchDir,
      log: { info: () => {}, warn: () => {} },
      previous: {},
      binaries: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
      signal: controller.signal,
      reportProgress: () => {},
    } as unknown as StageContext;

    const started = Date.now();
    const run = stage.run(ctx);
    // The stage is now removing, creating and copying its scratch: this abort comes before the
    // program would have been started and listened to the signal.
    controller.abort(reason);
    let timer: NodeJS.Timeout | undefined;
    const tooLong = new Promise((resolve) => (timer = setTimeout(() => resolve('still running after 5 s'), 5000)));
    try {
      const outcome = await Promise.race([
        run.then(
          () => 'completed',
          (e: unknown) => e,
        ),
        tooLong,
      ]);
      expect(outcome).toBeInstanceOf(StageAbortedError);
      expect(outcome).toMatchObject({ code, reason });
      expect(Date.now() - started).toBeLessThan(3000); // no SIGTERM/SIGKILL grace to wait for: nothing ran
      // The program was never started (or, had it been, is gone), and the stage's scratch is removed.
      const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      expect(pid === 0 || !isRunning(pid)).toBe(true);
      await expect(stat(path.join(scratchDir, 'stages', 'sleeper'))).rejects.toThrow(/ENOENT/);
    } finally {
      clearTimeout(timer);
      // Before the fix the program runs on: leave no sleep behind whatever the assertions said.
      const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
      if (pid && isRunning(pid)) process.kill(-pid, 'SIGKILL');
    }
  });
});

interface ChildOutcome {
  ok: boolean;
  result?: { output: Record<string, unknown>; files: Array<{ kind: string; path: string }> };
  error?: { class: string; code: string; message: string; detail: string };
  warnings: Array<{ obj: { stage: string; err: { code: string } }; msg: string }>;
  scratchLeft: boolean;
}

/**
 * Runs fixtures/stages/sealed.sh <mode> as an external stage in a child process, as an unprivileged user
 * when the tests run as root (for root a read-only folder is no obstacle, so nothing would be tested).
 */
async function runSealed(mode: string, timeoutSeconds: number | null = null): Promise<{ outcome: ChildOutcome; outputDir: string }> {
  const { outputDir, scratchDir } = await freshJob();
  const spec = { program: path.join(FIXTURES, 'stages/sealed.sh'), args: [mode], timeoutSeconds, scratchDir, inputPath: input, outputDir };
  const node = [process.execPath, '--import', 'tsx', path.join(FIXTURES, 'run-external-stage.ts'), JSON.stringify(spec)];
  const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
  const [bin, ...args] = [...asUser, ...node];
  const child = spawn(bin, args, { env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`the stage runner exited ${code}: ${out}${err}`);
  return { outcome: JSON.parse(line) as ChildOutcome, outputDir };
}

describe('an external stage that leaves read-only folders behind', () => {
  it('completes with its outputs collected (read-only ones too) and its scratch removed', async () => {
    const { outcome, outputDir } = await runSealed('exit0');
    expect(outcome.error).toBeUndefined();
    expect(outcome.ok).toBe(true);
    expect(outcome.result!.output).toEqual({ sealed: true });
    expect(outcome.result!.files).toEqual([expect.objectContaining({ kind: 'sealed', path: 'sealed/sealed/note.txt' })]);
    expect(await readFile(path.join(outputDir, 'sealed/sealed/note.txt'), 'utf8')).toBe('sealed\n');
    expect(outcome.scratchLeft).toBe(false);
    expect(outcome.warnings).toEqual([]);
  });

  it('past its timeoutSeconds it still ends StageTimedOut (the job TIMED_OUT), not with a clean-up error, and its scratch is removed', async () => {
    const { outcome } = await runSealed('hang', 1);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatchObject({ class: 'StageTimedOut', message: expect.stringContaining('ran past its timeoutSeconds of 1 s') });
    expect(outcome.scratchLeft).toBe(false);
  });

  it('when its scratch cannot be removed at all, the stage still completes, and the failure is logged', async () => {
    const { outcome } = await runSealed('lock-parent');
    expect(outcome.error).toBeUndefined();
    expect(outcome.ok).toBe(true);
    expect(outcome.result!.output).toEqual({ sealed: true });
    expect(outcome.scratchLeft).toBe(true);
    expect(outcome.warnings).toEqual([
      { obj: expect.objectContaining({ stage: 'sealed', err: expect.objectContaining({ code: 'EACCES' }) }), msg: expect.stringContaining('could not remove') },
    ]);
  });
});
