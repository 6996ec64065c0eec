import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentStageError, StageError, TransientStageError } from '../../src/pipeline/errors.ts';
import { decoderThreads, probeAndVerify, probeVideo } from '../../src/pipeline/probe.ts';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg.ts';
import {
  binaries,
  CONTAINERS,
  ffmpeg,
  makeAbsurdCount,
  makeGarbageAfterHeader,
  makePng,
  makeStreamedWebm,
  makeTruncated,
  makeVideo,
  renamedCopy,
  type Container,
} from '../helpers/media.ts';

let dir: string;
const clips = {} as Record<Container, string>;
let silent: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidq-probe-'));
  await Promise.all(CONTAINERS.map(async (format) => (clips[format] = await makeVideo(dir, { format, name: format }))));
  silent = await makeVideo(dir, { format: 'mp4', audio: false, name: 'silent' });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<StageError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StageError);
  return err as StageError;
}

async function corruptError(p: Promise<unknown>): Promise<PermanentStageError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PermanentStageError);
  expect((err as PermanentStageError).code).toBe('VIDEO_CORRUPT');
  expect((err as PermanentStageError).retryable).toBe(false);
  return err as PermanentStageError;
}

describe('probeVideo', () => {
  const expected: Record<Container, { video: string; audio: string; format: RegExp }> = {
    mp4: { video: 'h264', audio: 'aac', format: /mp4/ },
    mov: { video: 'h264', audio: 'aac', format: /mov/ },
    avi: { video: 'mpeg4', audio: 'mp3', format: /^avi$/ },
    mkv: { video: 'h264', audio: 'aac', format: /matroska/ },
    webm: { video: 'vp9', audio: 'opus', format: /webm/ },
  };

  it.each(CONTAINERS)('reads size, codecs, frame rate and duration of a %s file as numbers', async (format) => {
    const meta = await probeVideo(clips[format], binaries);
    expect(meta).toMatchObject({
      width: 320,
      height: 240,
      videoCodec: expected[format].video,
      audioCodec: expected[format].audio,
      hasAudio: true,
      frameRate: 25,
    });
    expect(meta.formatName).toMatch(expected[format].format);
    expect(meta.durationSeconds).toBeGreaterThan(1.9);
    expect(meta.durationSeconds).toBeLessThan(2.2);
    expect(typeof meta.bitRate).toBe('number');
  });

  it('reports no audio codec for a video without an audio stream', async () => {
    expect(await probeVideo(silent, binaries)).toMatchObject({ hasAudio: false, audioCodec: null });
  });

  it('reports the displayed size of a video rotated by 90 degrees, as players show it', async () => {
    const rotated = path.join(dir, 'rotated.mp4');
    await ffmpeg(['-i', clips.mp4, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
    expect(await probeVideo(rotated, binaries)).toMatchObject({ width: 240, height: 320 });
  });

  it('measures the duration of a streamed WebM whose header has none', async () => {
    const meta = await probeVideo(await makeStreamedWebm(dir), binaries);
    expect(meta.durationSeconds).toBeCloseTo(2, 1);
  });

  it("rejects a file that is not a video with VIDEO_CORRUPT in ffprobe's own words", async () => {
    const err = await corruptError(probeVideo(await makeTruncated(clips.mov, 0.5), binaries));
    expect(err.detail).toMatch(/moov atom not found|Invalid data/);
    expect(err.detail).not.toContain(dir); // users see the file name, not where the server keeps it
  });

  it('rejects a PNG renamed to .mp4 as a still image', async () => {
    const png = await renamedCopy(await makePng(dir), 'picture-renamed.mp4');
    expect((await corruptError(probeVideo(png, binaries))).detail).toMatch(/still image/);
  });

  it('rejects a truncated AVI because its header announces more frames than the file holds', async () => {
    expect((await corruptError(probeVideo(await makeTruncated(clips.avi, 0.5), binaries))).detail).toMatch(/cut short/);
  });

  // The file probed is one the service wrote (an upload, a job's scratch copy): its absence is the
  // machine's failure, and another attempt, with a new copy, can succeed.
  it('fails on a missing file as a transient SERVICE_UNAVAILABLE, not VIDEO_CORRUPT', async () => {
    const err = await failure(probeVideo(path.join(dir, 'nope.mp4'), binaries));
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(err.detail).toMatch(/a file it was given is missing.*nope\.mp4: No such file or directory/s);
  });
});

describe('a probe or decode check that fails for a reason of the machine', () => {
  /** An ffprobe/ffmpeg stand-in that says what a real one says when the machine fails it, and exits 1. */
  async function failingBinary(name: string, said: string): Promise<string> {
    const file = path.join(dir, `${name}-${Math.random().toString(36).slice(2, 8)}`);
    await writeFile(file, `#!/bin/sh\necho '${said}' >&2\nexit 1\n`, { mode: 0o755 });
    return file;
  }

  it.each([
    ['[h264 @ 0x5581c0] pthread_create() failed: Resource temporarily unavailable', 'out of processes or threads'],
    ['Too many open files', 'out of file descriptors'],
    ['Input/output error', 'an I/O error'],
  ])('ffprobe saying "%s" is transient (retried), not VIDEO_CORRUPT', async (said, what) => {
    const ffprobe = await failingBinary('ffprobe', said);
    const err = await failure(probeVideo(clips.mp4, { ffprobe }));
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(err.detail).toContain(`not of the video (${what}`);
    expect(err.detail).toContain(said);
  });

  it('a decode check that runs out of threads fails the check as transient, not VIDEO_CORRUPT', async () => {
    const ffmpeg = await failingBinary('ffmpeg', '[h264 @ 0x5581c0] Error while decoding stream #0:0: Resource temporarily unavailable');
    const err = await failure(probeAndVerify(clips.mp4, { ffprobe: binaries.ffprobe, ffmpeg, durationInHeader: true }));
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  // Reading a file, "Cannot allocate memory" is the file's fault: a header claiming 2^31 entries asks
  // for memory no machine has. A machine really out of memory kills the process (a signal: transient).
  it.each(['stts', 'stco'])('a header whose %s claims more entries than memory holds is VIDEO_CORRUPT, for ffprobe and the decode check', async (atom) => {
    const absurd = await makeAbsurdCount(clips.mp4, atom);
    expect((await corruptError(probeVideo(absurd, binaries))).detail).toMatch(/Cannot allocate memory/);
    const ffmpeg = await failingBinary('ffmpeg', '[h264 @ 0x5581c0] Error while decoding stream #0:0: Cannot allocate memory');
    await corruptError(probeAndVerify(clips.mp4, { ffprobe: binaries.ffprobe, ffmpeg, durationInHeader: true }));
  });

  it('ffprobe refusing the data itself stays VIDEO_CORRUPT', async () => {
    const ffprobe = await failingBinary('ffprobe', 'input.mp4: Invalid data found when processing input');
    await corruptError(probeVideo(clips.mp4, { ffprobe }));
  });
});

describe('probeAndVerify (ffprobe, head and tail side by side)', () => {
  const inHeader = (format: Container) => format === 'mp4' || format === 'mov';

  it.each(CONTAINERS)('accepts a valid %s file and returns what probeVideo does', async (format) => {
    const meta = await probeAndVerify(clips[format], { ...binaries, durationInHeader: inHeader(format) });
    expect(meta).toEqual(await probeVideo(clips[format], binaries));
  });

  it('accepts a streamed WebM without a header duration (its tail waits for the measured one)', async () => {
    const meta = await probeAndVerify(await makeStreamedWebm(dir), binaries);
    expect(meta.durationSeconds).toBeGreaterThan(1);
  });

  it('rejects a truncated mkv, saying the decoder could not read it', async () => {
    const err = await corruptError(probeAndVerify(await makeTruncated(clips.mkv, 0.5), binaries));
    expect(err.detail).toMatch(/Read error|File ended prematurely/); // the bundled ffmpeg's words, then 5.x's
  });

  it('rejects a truncated webm', async () => {
    await corruptError(probeAndVerify(await makeTruncated(clips.webm, 0.6), binaries));
  });

  it('rejects a truncated mp4 whose index sits before the cut, tail seeking by the header', async () => {
    const err = await corruptError(probeAndVerify(await makeTruncated(clips.mp4, 0.5), { ...binaries, durationInHeader: true }));
    expect(err.detail.length).toBeLessThanOrEqual(1001);
  });

  it('rejects an mp4 with garbage after a valid header', async () => {
    const err = await corruptError(probeAndVerify(await makeGarbageAfterHeader(clips.mp4), { ...binaries, durationInHeader: true }));
    expect(err.detail).toMatch(/Invalid data|error/i);
  });

  it('rejects an mkv with garbage after a valid header', async () => {
    await corruptError(probeAndVerify(await makeGarbageAfterHeader(clips.mkv), binaries));
  });

  it('rejects an mp4 holding a single frame, which decodes to a single picture', async () => {
    const oneFrame = path.join(dir, 'one-frame.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25', '-frames:v', '1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', oneFrame]);
    expect((await corruptError(probeAndVerify(oneFrame, { ...binaries, durationInHeader: true }))).detail).toMatch(/single picture/);
  });

  it('shares the cores between the two ends instead of giving each one thread per core plus one', async () => {
    expect(decoderThreads(2, true)).toEqual({ head: 2, tail: 1 });
    expect(decoderThreads(2, false)).toEqual({ head: 2, tail: 2 }); // the head was checked while the file arrived
    expect(decoderThreads(1, true)).toEqual({ head: 1, tail: 1 });
    expect(decoderThreads(8, true)).toEqual({ head: 8, tail: 3 });
    // What the two decoders of an upload's check are really given.
    const recorder = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 0, mode: 'exit1' });
    await probeAndVerify(clips.mp4, { ...binaries, ffmpeg: recorder.path, durationInHeader: true });
    const expected = decoderThreads(os.availableParallelism(), true);
    const argv = await recorder.argv();
    expect(argv).toHaveLength(2);
    expect(argv.find((a) => a.includes('-sseof'))).toMatch(new RegExp(`-threads ${expected.tail} `));
    expect(argv.find((a) => !a.includes('-sseof'))).toMatch(new RegExp(`-threads ${expected.head} .*-t 2 `));
  });

  it('stops the tail once the head has failed, leaving no ffmpeg behind', async () => {
    // The tail (the only decode with -sseof) hangs: only the head's refusal can end the check.
    const hang = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 99, mode: 'hang', when: '-sseof' });
    const garbage = await makeGarbageAfterHeader(clips.mp4);
    const err = await corruptError(probeAndVerify(garbage, { ...binaries, ffmpeg: hang.path, durationInHeader: true }));
    expect(err.detail).toMatch(/Invalid data|error/i);
    expect(await hang.invocations()).toBe(1);
    for (const pid of await hang.pids()) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it("gives ffprobe's refusal and stops the decoders it no longer needs, leaving no ffmpeg behind", async () => {
    // Every decode hangs; only ffprobe's refusal can end the check, and only by stopping them.
    const hang = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 99, mode: 'hang', when: '0:V:0' });
    // An ffprobe that answers only after a second, by when both decoders are surely running.
    const slowProbe = path.join(dir, 'slow-ffprobe');
    await writeFile(slowProbe, `#!/bin/sh\nsleep 1\nexec '${binaries.ffprobe}' "$@"\n`, { mode: 0o755 });
    const cut = await makeTruncated(clips.mov, 0.5);
    const err = await corruptError(probeAndVerify(cut, { ffprobe: slowProbe, ffmpeg: hang.path, durationInHeader: true }));
    expect(err.detail).toMatch(/moov atom not found|Invalid data/);
    const pids = await hang.pids();
    expect(pids).toHaveLength(2); // the head and the tail both ran
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});
