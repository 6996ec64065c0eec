import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentStageError } from '../../src/pipeline/errors.ts';
import { STAGES, getStage } from '../../src/pipeline/stages/index.ts';
import { dHash } from '../../src/pipeline/stages/scenes.ts';
import type { Stage } from '../../src/pipeline/types.ts';
import { binaries, ffmpeg, makeGarbageAfterHeader, makeVideo } from '../helpers/media.ts';
import { fileArg, runFfmpeg } from '../../src/pipeline/ffmpeg.ts';
import { writeAtomically } from '../../src/pipeline/files.ts';
import { stageContext } from '../helpers/stage-context.ts';

let dir: string;
let withGaps: string;
let withCuts: string;
let noAudio: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidq-stages-'));
  [withGaps, withCuts, noAudio] = await Promise.all([
    makeVideo(dir, { format: 'mp4', seconds: 3, silenceGaps: true, name: 'gaps' }),
    makeVideo(dir, { format: 'mkv', seconds: 3, scenes: true, name: 'cuts' }),
    makeVideo(dir, { format: 'webm', seconds: 2, audio: false, name: 'no-audio' }),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A fresh job directory and context for one stage run. */
const contextFor = (inputPath: string, progress: number[] = []) => stageContext(dir, inputPath, {}, { reportProgress: (f) => progress.push(f) });

const stage = (name: string): Stage => getStage(name)!;

describe('stage registry', () => {
  it('lists the stages in processing order, each with a description', () => {
    expect(STAGES.map((s) => s.name)).toEqual(['probe', 'thumbnails', 'transcode', 'audio', 'scenes']);
    for (const s of STAGES) expect(s.description.length).toBeGreaterThan(10);
  });

  it('finds a stage by name and returns undefined for an unknown one', () => {
    expect(getStage('scenes')?.name).toBe('scenes');
    expect(getStage('speech')).toBeUndefined();
  });
});

describe('probe stage', () => {
  it('outputs the source metadata as JSON', async () => {
    const { output, files } = await stage('probe').run(await contextFor(withGaps));
    expect(output).toMatchObject({ width: 320, height: 240, videoCodec: 'h264', hasAudio: true });
    expect(files).toEqual([]);
    expect(JSON.parse(JSON.stringify(output))).toEqual(output);
  });

  it('fails with a permanent VIDEO_CORRUPT on a corrupt source', async () => {
    const ctx = await contextFor(withGaps);
    ctx.inputPath = await makeGarbageAfterHeader(withGaps);
    const err = await stage('probe')
      .run(ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentStageError);
    expect(err).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
  });
});

describe('thumbnails stage', () => {
  it('writes a poster and one thumbnail per second (up to 5), all JPEG, and lists their times', async () => {
    const ctx = await contextFor(withGaps);
    const { output, files } = await stage('thumbnails').run(ctx);
    expect(files.filter((f) => f.kind === 'poster')).toHaveLength(1);
    expect(files.filter((f) => f.kind === 'thumbnail')).toHaveLength(3);
    for (const f of files) {
      expect(f.contentType).toBe('image/jpeg');
      const bytes = await readFile(path.join(ctx.outputDir, f.path));
      expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      expect(f.sizeBytes).toBe(bytes.length);
    }
    const thumbs = output.thumbnails as { time: number; file: string }[];
    expect(thumbs.map((t) => t.time)).toEqual([0.5, 1.5, 2.5]);
  });

  // The container's duration is its longest stream's: with audio running on after the last picture, a
  // poster or thumbnail placed by it would land where there is no frame (ffmpeg exits 0, writes nothing).
  it.each(['mp4', 'mkv'])('places every shot within the video stream when the audio of a %s runs on after it', async (format) => {
    const longAudio = path.join(dir, `long-audio.${format}`);
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc=duration=3:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=duration=10'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', longAudio],
    ]);
    const ctx = await contextFor(longAudio);
    expect(ctx.source.durationSeconds).toBeGreaterThan(9); // the container's duration: the audio's
    const { output, files } = await stage('thumbnails').run(ctx);
    expect(files.filter((f) => f.kind === 'poster')).toHaveLength(1);
    expect(files.filter((f) => f.kind === 'thumbnail')).toHaveLength(3); // one per second of video
    for (const f of files) {
      const bytes = await readFile(path.join(ctx.outputDir, f.path));
      expect([...bytes.subarray(0, 3)], f.path).toEqual([0xff, 0xd8, 0xff]);
    }
    // Matroska tells the video's duration as 3.02 s or so, a frame's length past the last one's start.
    const times = (output.thumbnails as { time: number }[]).map((t) => t.time);
    [0.5, 1.5, 2.5].forEach((expected, i) => expect(times[i]).toBeCloseTo(expected, 1));
    expect((output.poster as { time: number }).time).toBeCloseTo(0.3, 1);
  });

  it('an ffmpeg that exits 0 without writing its output fails for good: the same input would do the same again', async () => {
    const longAudio = path.join(dir, 'long-audio-past-end.mp4');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc=duration=3:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=duration=10'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', longAudio],
    ]);
    const out = await mkdtemp(path.join(dir, 'past-end-'));
    const err = await writeAtomically(out, ['late.jpg'], ([partial]) =>
      runFfmpeg(
        ['-v', 'error', '-ss', '9', '-i', fileArg(longAudio), '-map', '0:V:0', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2', '-y', fileArg(partial)],
        {
          ffmpeg: binaries.ffmpeg,
        },
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentStageError);
    expect(err).toMatchObject({ code: 'INTERNAL_ERROR', retryable: false });
    expect((err as PermanentStageError).detail).toMatch(/produced no late\.jpg/);
    expect(await readdir(out)).toEqual([]);
  });

  it('overwrites its own files when run again and leaves no partial files', async () => {
    const ctx = await contextFor(noAudio);
    await stage('thumbnails').run(ctx);
    const again = await stage('thumbnails').run(ctx);
    expect((await readdir(ctx.outputDir)).sort()).toEqual(again.files.map((f) => f.path).sort());
  });
});

describe('audio stage', () => {
  it('finds silent and audible segments in a clip with silence gaps and measures loudness', async () => {
    const { output } = await stage('audio').run(await contextFor(withGaps));
    const silences = output.silences as { start: number; end: number }[];
    const activity = output.activity as { start: number; end: number }[];
    expect(silences.length).toBe(3);
    expect(silences[0].start).toBeCloseTo(0.5, 1);
    expect(silences[0].end).toBeCloseTo(1, 1);
    expect(activity.length).toBe(3);
    expect(activity[0]).toEqual({ start: 0, end: silences[0].start });
    const loudness = output.loudness as Record<string, number | null>;
    expect(loudness.integratedLufs).toBeLessThan(0);
    expect(loudness.truePeakDbfs).toBeLessThan(0);
    expect(typeof loudness.loudnessRangeLu).toBe('number');
  });

  it('is skipped when the source has no audio stream', async () => {
    expect(stage('audio').shouldSkip?.(await contextFor(noAudio))).toBe('no audio stream');
    expect(stage('audio').shouldSkip?.(await contextFor(withGaps))).toBeNull();
  });
});

describe('scenes stage', () => {
  it('finds the hard cuts, starting with a scene at 0, each with a 64-bit hex hash', async () => {
    const progress: number[] = [];
    const { output, files } = await stage('scenes').run(await contextFor(withCuts, progress));
    const scenes = output.scenes as { start: number; end: number; score: number | null; hash: string }[];
    expect(scenes.map((s) => s.start)).toEqual([0, 0.76, 1.52, 2.28]);
    expect(scenes.at(-1)!.end).toBeCloseTo(3, 1);
    for (const [i, s] of scenes.entries()) {
      expect(s.hash).toMatch(/^[0-9a-f]{16}$/);
      if (i > 0) expect(s.score).toBeGreaterThan(0.3);
      if (i > 0) expect(s.start).toBe(scenes[i - 1].end);
    }
    // The test-pattern scene has structure; the solid colours hash to zero.
    expect(scenes[2].hash).not.toBe('0000000000000000');
    expect(files).toEqual([]);
    expect(progress.at(-1)).toBe(1);
  });

  it('hashes a left-to-right brightness ramp as all zeros and its mirror as all ones', () => {
    const ramp = Uint8Array.from({ length: 72 }, (_, i) => (i % 9) * 20);
    const mirror = Uint8Array.from({ length: 72 }, (_, i) => 200 - (i % 9) * 20);
    expect(dHash(ramp)).toBe('0000000000000000');
    expect(dHash(mirror)).toBe('ffffffffffffffff');
  });
});
