import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRunning } from '../helpers/processes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PermanentStageError,
  StageAbortedError,
  StageError,
  TransientStageError,
  classifyExit,
  summarizeStderr,
  toStageError,
} from '../../src/pipeline/errors.ts';
import { runFfmpeg, runFfprobe } from '../../src/pipeline/ffmpeg.ts';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg.ts';
import { binaries, makeVideo } from '../helpers/media.ts';

let dir: string;
let clip: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidq-ffmpeg-'));
  clip = await makeVideo(dir, { format: 'mp4', seconds: 3 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** An encode that never ends on its own: an endless test pattern into x264. */
const endless = ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'null', '-'];

/** Running, as opposed to gone or a zombie nobody has reaped yet (an orphan's new parent may never reap). */
const running = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
};

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as StageError,
  );

describe('runFfmpeg', () => {
  it('reports progress that only increases, stays within 0..1 and ends at 1', async () => {
    const seen: number[] = [];
    const r = await runFfmpeg(['-v', 'error', '-re', '-i', clip, '-f', 'null', '-'], {
      ffmpeg: binaries.ffmpeg,
      durationSeconds: 3,
      onProgress: (f) => seen.push(f),
    });
    expect(seen.length).toBeGreaterThan(1); // -re paces it, so there are reports before the end
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0);
    expect(seen.at(-1)).toBeLessThanOrEqual(1);
    expect(seen.at(-1)).toBeGreaterThan(0.9);
    expect(r.frames).toBe(75);
  });

  it('kills ffmpeg at once when the signal aborts, waits for it and rejects with StageAbortedError', async () => {
    const controller = new AbortController();
    let pid = 0;
    const run = runFfmpeg(endless, {
      ffmpeg: binaries.ffmpeg,
      signal: controller.signal,
      durationSeconds: 3600,
      onSpawn: (p) => (pid = p),
      onProgress: () => controller.abort(new Error('cancelled by user')),
    });
    const err = await rejection(run);
    expect(err).toBeInstanceOf(StageAbortedError);
    expect((err as StageAbortedError).reason).toEqual(new Error('cancelled by user'));
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('marks an abort by timeout as JOB_TIMEOUT', async () => {
    const err = await rejection(runFfmpeg(endless, { ffmpeg: binaries.ffmpeg, signal: AbortSignal.timeout(300) }));
    expect(err).toBeInstanceOf(StageAbortedError);
    expect(err.code).toBe('JOB_TIMEOUT');
  });

  it('does not start ffmpeg when the signal has already fired', async () => {
    let spawned = false;
    const err = await rejection(runFfmpeg(endless, { ffmpeg: binaries.ffmpeg, signal: AbortSignal.abort('gone'), onSpawn: () => (spawned = true) }));
    expect(err).toBeInstanceOf(StageAbortedError);
    expect(spawned).toBe(false);
  });

  it('kills ffmpeg and rethrows when a progress callback throws', async () => {
    let pid = 0;
    const err = await rejection(
      runFfmpeg(endless, {
        ffmpeg: binaries.ffmpeg,
        durationSeconds: 3600,
        onSpawn: (p) => (pid = p),
        onProgress: () => {
          throw new Error('listener bug');
        },
      }),
    );
    expect((err as Error).message).toBe('listener bug');
    expect(isRunning(pid)).toBe(false);
  });

  it('treats a binary that cannot start as a transient SERVICE_UNAVAILABLE', async () => {
    const err = await rejection(runFfmpeg(['-version'], { ffmpeg: path.join(dir, 'no-such-ffmpeg') }));
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  it('treats a full disk as a transient SERVICE_UNAVAILABLE', async () => {
    const err = await rejection(runFfmpeg(['-v', 'error', '-i', clip, '-c', 'copy', '-f', 'mp4', '-y', 'file:/dev/full'], { ffmpeg: binaries.ffmpeg }));
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(err.detail).toMatch(/No space left on device/);
  });

  it('treats an input that is not a video as a permanent VIDEO_CORRUPT', async () => {
    const garbage = path.join(dir, 'garbage.mp4');
    await writeFile(garbage, Buffer.alloc(64 * 1024, 'not a video '));
    const err = await rejection(runFfmpeg(['-v', 'error', '-i', garbage, '-f', 'null', '-'], { ffmpeg: binaries.ffmpeg, exitMeansCorrupt: true }));
    expect(err).toBeInstanceOf(PermanentStageError);
    expect(err.code).toBe('VIDEO_CORRUPT');
  });

  // The input a stage reads is a local copy the service made: when it is not there, the machine (a
  // scratch directory swept, a lost mount) failed, not the video; another attempt gets a new copy.
  it('treats a missing input file as the machine’s transient failure, not a corrupt video', async () => {
    for (const input of [path.join(dir, 'missing.mp4'), `file:${path.join(dir, 'missing.mp4')}`]) {
      const err = await rejection(runFfmpeg(['-v', 'error', '-i', input, '-f', 'null', '-'], { ffmpeg: binaries.ffmpeg, exitMeansCorrupt: true }));
      expect(err, input).toBeInstanceOf(TransientStageError);
      expect(err, input).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
      expect(err.detail).toMatch(/a file it was given is missing.*missing\.mp4: No such file or directory/s);
      expect(err.detail).not.toContain(dir); // the server's paths stay out of the detail
    }
  });
});

describe('faulty ffmpeg wrapper', () => {
  it('crashes on the first call (TransientStageError) and succeeds on the next', async () => {
    const faulty = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'crash' });
    const args = ['-v', 'error', '-i', clip, '-f', 'null', '-'];
    const err = await rejection(runFfmpeg(args, { ffmpeg: faulty.path }));
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(err.detail).toMatch(/SIGKILL/);
    await expect(runFfmpeg(args, { ffmpeg: faulty.path })).resolves.toBeDefined();
    expect(await faulty.invocations()).toBe(2);
  });

  it('exits 1 as a retryable INTERNAL_ERROR carrying what it printed', async () => {
    const faulty = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'exit1' });
    const err = await rejection(runFfmpeg(['-version'], { ffmpeg: faulty.path }));
    expect(err).toMatchObject({ code: 'INTERNAL_ERROR', retryable: true });
    expect(err.detail).toMatch(/injected failure/);
  });

  it('only fails invocations whose arguments contain the `when` marker', async () => {
    const faulty = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 5, mode: 'exit1', when: 'libx264' });
    await expect(runFfmpeg(['-v', 'error', '-i', clip, '-f', 'null', '-'], { ffmpeg: faulty.path })).resolves.toBeDefined();
    await expect(runFfmpeg(['-v', 'error', '-i', clip, '-c:v', 'libx264', '-f', 'null', '-'], { ffmpeg: faulty.path })).rejects.toBeInstanceOf(
      TransientStageError,
    );
    expect(await faulty.invocations()).toBe(1);
  });

  it('hangs until aborted, and the abort leaves no process behind', async () => {
    const faulty = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'hang' });
    const err = await rejection(runFfmpeg(['-version'], { ffmpeg: faulty.path, signal: AbortSignal.timeout(500) }));
    expect(err).toBeInstanceOf(StageAbortedError);
    const [pid] = await faulty.pids();
    expect(isRunning(pid)).toBe(false);
  });
});

describe('runFfprobe', () => {
  it('returns ffprobe output as parsed JSON', async () => {
    const out = (await runFfprobe(['-show_format', clip], { ffprobe: binaries.ffprobe })) as { format: { nb_streams: number } };
    expect(out.format.nb_streams).toBe(2);
  });
});

describe('stage errors', () => {
  it('keeps only the last meaningful stderr lines, about 1000 characters at most', () => {
    const noisy = `${'x'.repeat(5000)}\n${'[h264] error while decoding MB 1 2\n'.repeat(100)}Conversion failed!\n`;
    const detail = summarizeStderr(noisy);
    expect(detail.length).toBeLessThanOrEqual(1001);
    expect(detail).toMatch(/error while decoding MB 1 2$/);
  });

  it("counts a truncated input as corrupt in the words of the bundled ffmpeg and of ffmpeg 5 (Debian 12's)", () => {
    for (const said of ['[matroska,webm @ 0x370c8bc0] Read error', '[matroska,webm @ 0x563f1f93e880] File ended prematurely']) {
      const err = classifyExit({ bin: '/x/ffmpeg', args: [], exitCode: 1, signal: null, stderr: `${said}\nConversion failed!\n` });
      expect(err, said).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    }
  });

  it('treats what ffmpeg says of the machine (threads, descriptors, I/O) as transient, even when it only read the input', () => {
    // Out of memory too, for a program that writes; for one that only reads, it is the file's (a header
    // claiming 2^31 entries), as the probe tests show.
    const encoding = classifyExit({ bin: '/x/ffmpeg', args: ['file:/scratch/in.mp4'], exitCode: 1, signal: null, stderr: 'Cannot allocate memory\n' });
    expect(encoding).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(encoding.detail).toContain('not of the video (out of memory');
    const reading = classifyExit({
      bin: '/x/ffprobe',
      args: ['file:/scratch/in.mp4'],
      exitCode: 1,
      signal: null,
      stderr: 'Cannot allocate memory\n',
      exitMeansCorrupt: true,
    });
    expect(reading).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    const said = [
      ['[h264 @ 0x55d0] pthread_create() failed: Resource temporarily unavailable', 'out of processes or threads'],
      ['file:/scratch/in.mp4: Too many open files', 'out of file descriptors'],
      ['Error during demuxing: Input/output error', 'an I/O error'],
    ];
    for (const [stderr, what] of said) {
      for (const exitMeansCorrupt of [true, false]) {
        const err = classifyExit({ bin: '/x/ffprobe', args: ['file:/scratch/in.mp4'], exitCode: 1, signal: null, stderr: `${stderr}\n`, exitMeansCorrupt });
        expect(err, stderr).toBeInstanceOf(TransientStageError);
        expect(err, stderr).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
        expect(err.detail, stderr).toContain(`ffprobe failed for a reason of this machine, not of the video (${what}`);
      }
    }
    // What the data itself makes the decoder say stays a verdict on the video.
    const corrupt = classifyExit({
      bin: '/x/ffprobe',
      args: ['file:/scratch/in.mp4'],
      exitCode: 1,
      signal: null,
      stderr: 'file:/scratch/in.mp4: Invalid data found when processing input\n',
      exitMeansCorrupt: true,
    });
    expect(corrupt).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    // An I/O error beside the decoder's complaints about the data (a cut file read to its end) is the data's.
    const cut = classifyExit({
      bin: '/x/ffmpeg',
      args: ['file:/scratch/in.mkv'],
      exitCode: 1,
      signal: null,
      stderr: '[matroska,webm @ 0x1] Read error at pos. 52000\nError during demuxing: Input/output error\n',
      exitMeansCorrupt: true,
    });
    expect(cut).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    // "No such file" about something other than a file we gave it (an entry of a playlist) is not ours.
    const other = classifyExit({
      bin: '/x/ffprobe',
      args: ['file:/scratch/in.mp4'],
      exitCode: 1,
      signal: null,
      stderr: 'seg-1.ts: No such file or directory\n',
      exitMeansCorrupt: true,
    });
    expect(other).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
  });

  it('treats a kill by a signal we did not send as transient', () => {
    const err = classifyExit({ bin: '/x/ffmpeg', args: [], exitCode: null, signal: 'SIGSEGV', stderr: '' });
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  it('maps Node errors: ENOSPC is transient, anything else still becomes a StageError without a stack', () => {
    expect(toStageError(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const other = toStageError(new TypeError('boom'));
    expect(other).toMatchObject({ code: 'INTERNAL_ERROR', retryable: true, detail: 'boom' });
    expect(JSON.stringify(other)).not.toMatch(/at .*\.ts/);
  });
});

describe('a worker killed with SIGKILL', () => {
  it.skipIf(process.platform !== 'linux')('takes its ffmpeg with it instead of leaving it running orphaned', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../helpers/ffmpeg-child.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const m = out.match(/\{"pid":(\d+)\}/);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`child exited ${code} before starting ffmpeg`)));
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(running(pid)).toBe(true);
    child.kill('SIGKILL');
    const until = Date.now() + 5000;
    while (running(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const survived = running(pid);
    if (survived) process.kill(pid, 'SIGKILL'); // leave nothing behind even when the assertion fails
    expect(survived).toBe(false);
  });
});

describe('a binary that cannot be started', () => {
  it('is a transient SERVICE_UNAVAILABLE naming the binary, not a corrupt input', async () => {
    const err = await rejection(runFfmpeg(['-version'], { ffmpeg: path.join(dir, 'no-such-ffmpeg'), exitMeansCorrupt: true }));
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.detail).toMatch(/could not start no-such-ffmpeg: ENOENT/);
  });
});
