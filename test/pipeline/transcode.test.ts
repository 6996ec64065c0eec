import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentStageError, StageAbortedError, TransientStageError } from '../../src/pipeline/errors.ts';
import { transcodeStage } from '../../src/pipeline/stages/transcode.ts';
import type { StageContext } from '../../src/pipeline/types.ts';
import { makeFaultyFfmpeg } from '../helpers/faulty-ffmpeg.ts';
import { binaries, ffprobeJson, makeTruncated, makeVideo } from '../helpers/media.ts';
import { stageContext } from '../helpers/stage-context.ts';

const run = promisify(execFile);
let dir: string;
let clip: string;
let large: string;
let greenScreen: string;
let silent: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vidq-transcode-'));
  [clip, large, greenScreen, silent] = await Promise.all([
    makeVideo(dir, { format: 'mov', name: 'clip' }),
    makeVideo(dir, { format: 'mp4', seconds: 1, width: 960, height: 720, name: 'large' }),
    makeVideo(dir, { format: 'mp4', greenScreen: true, name: 'green' }),
    makeVideo(dir, { format: 'mkv', audio: false, name: 'silent' }),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const contextFor = (inputPath: string, options: unknown, extra: Partial<StageContext> = {}) => stageContext(dir, inputPath, options, extra);

const codecs = async (file: string) => {
  const { streams } = await ffprobeJson(file);
  return Object.fromEntries(streams.map((s) => [s.codec_type as string, s.codec_name as string]));
};

/** The first frame as raw pixels of `pixFmt`, decoded by `decoder` when given (libvpx-vp9 for alpha). */
async function firstFrame(file: string, pixFmt: string, decoder?: string): Promise<Buffer> {
  const { stdout } = await run(
    binaries.ffmpeg,
    ['-v', 'error', ...(decoder ? ['-c:v', decoder] : []), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'],
    { encoding: 'buffer', maxBuffer: 1 << 24 },
  );
  return stdout;
}

describe('transcode stage', () => {
  it('makes a fast-start MP4 with H.264 and AAC, and reports progress that increases up to 1', async () => {
    const progress: number[] = [];
    const ctx = await contextFor(clip, { outputFormat: 'MP4', model: 'FAST' }, { reportProgress: (f) => progress.push(f) });
    const { output, files } = await transcodeStage.run(ctx);
    const file = path.join(ctx.outputDir, 'video.mp4');
    expect(await codecs(file)).toEqual({ video: 'h264', audio: 'aac' });
    expect(output).toMatchObject({ format: 'MP4', codec: 'h264', audioCodec: 'aac', width: 320, height: 240, hasAlpha: false });
    expect(output.durationSeconds).toBeCloseTo(2, 0);
    expect(files).toEqual([{ kind: 'video', path: 'video.mp4', contentType: 'video/mp4', sizeBytes: output.sizeBytes }]);
    const bytes = await readFile(file);
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat')); // +faststart: playable while downloading
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(Math.min(...progress)).toBeGreaterThanOrEqual(0);
    expect(progress.at(-1)).toBe(1);
  });

  it('makes a WebM with VP9 and Opus', async () => {
    const ctx = await contextFor(clip, { outputFormat: 'WEBM', model: 'FAST' });
    const { files, output } = await transcodeStage.run(ctx);
    expect(await codecs(path.join(ctx.outputDir, 'video.webm'))).toEqual({ video: 'vp9', audio: 'opus' });
    expect(files[0]).toMatchObject({ kind: 'video', path: 'video.webm', contentType: 'video/webm' });
    expect(output).toMatchObject({ format: 'WEBM', codec: 'vp9', audioCodec: 'opus' });
  });

  it('scales a 960x720 source to at most 480 lines tall with FAST, keeping the aspect', async () => {
    const { output } = await transcodeStage.run(await contextFor(large, { outputFormat: 'MP4', model: 'FAST' }));
    expect(output).toMatchObject({ width: 640, height: 480 });
  });

  it('keeps the source resolution with ORIGINAL', async () => {
    const { output } = await transcodeStage.run(await contextFor(large, { outputFormat: 'MP4', model: 'ORIGINAL' }));
    expect(output).toMatchObject({ width: 960, height: 720 });
  });

  it('writes a video without an audio track when the source has none', async () => {
    const ctx = await contextFor(silent, { outputFormat: 'MP4', model: 'FAST' });
    const { output } = await transcodeStage.run(ctx);
    expect(output.audioCodec).toBeNull();
    expect(await codecs(path.join(ctx.outputDir, 'video.mp4'))).toEqual({ video: 'h264' });
  });

  it('removes a green background into a VP9 alpha channel when the WebM background is transparent', async () => {
    const ctx = await contextFor(greenScreen, { outputFormat: 'WEBM', model: 'FAST', background: { remove: true } });
    const { output } = await transcodeStage.run(ctx);
    const file = path.join(ctx.outputDir, 'video.webm');
    expect(output.hasAlpha).toBe(true);
    // ffprobe shows pix_fmt yuv420p: the alpha plane travels beside it, flagged by the alpha_mode tag.
    const { streams } = await ffprobeJson(file);
    expect((streams[0].tags as Record<string, string>).alpha_mode).toBe('1');
    // Only the libvpx decoder (not ffmpeg's native vp9) returns the alpha plane: yuva420p, alpha last.
    const frame = await firstFrame(file, 'yuva420p', 'libvpx-vp9');
    const alpha = frame.subarray(320 * 240 * 1.5);
    expect(alpha.length).toBe(320 * 240);
    expect(alpha[0]).toBeLessThan(8); // top-left corner was green: transparent (0, or 1 with Debian 12's libvpx: lossy)
    expect(alpha[Math.round(320 * 240 * 0.5 + 320 * 0.3)]).toBeGreaterThan(200); // the subject stays opaque
  });

  it('puts the keyed subject on a solid colour with replaceWith, which works for MP4', async () => {
    const ctx = await contextFor(greenScreen, { outputFormat: 'MP4', model: 'FAST', background: { replaceWith: '#ffffff' } });
    const { output } = await transcodeStage.run(ctx);
    expect(output).toMatchObject({ codec: 'h264', hasAlpha: false });
    const rgb = await firstFrame(path.join(ctx.outputDir, 'video.mp4'), 'rgb24');
    expect([...rgb.subarray(0, 3)].every((c) => c > 235)).toBe(true); // was green, now white
  });

  it('kills ffmpeg when aborted, rejects with StageAbortedError and leaves no file behind', async () => {
    // failures: 0 makes the wrapper a pass-through that records the real ffmpeg's pid.
    const spy = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 0, mode: 'exit1' });
    const controller = new AbortController();
    const ctx = await contextFor(
      clip,
      { outputFormat: 'WEBM', model: 'PRO' },
      {
        binaries: { ...binaries, ffmpeg: spy.path },
        signal: controller.signal,
        reportProgress: () => controller.abort(new Error('job cancelled')),
      },
    );
    const err = await transcodeStage.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageAbortedError);
    const [pid] = await spy.pids();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(await readdir(ctx.outputDir)).toEqual([]);
  });

  it('fails with a retryable TransientStageError when ffmpeg crashes, then succeeds on the next attempt', async () => {
    const faulty = await makeFaultyFfmpeg(dir, { realFfmpeg: binaries.ffmpeg, failures: 1, mode: 'crash', when: 'libx264' });
    const ctx = await contextFor(clip, { outputFormat: 'MP4', model: 'FAST' }, { binaries: { ...binaries, ffmpeg: faulty.path } });
    const err = await transcodeStage.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientStageError);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(await readdir(ctx.outputDir)).toEqual([]);
    const { files } = await transcodeStage.run(ctx);
    expect(files[0].path).toBe('video.mp4');
    expect(await faulty.invocations()).toBe(2);
  });

  it('fails with a permanent VIDEO_CORRUPT when the source has been damaged since upload', async () => {
    const ctx = await contextFor(clip, { outputFormat: 'MP4', model: 'FAST' });
    ctx.inputPath = await makeTruncated(clip, 0.5);
    const err = await transcodeStage.run(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentStageError);
    expect(err).toMatchObject({ code: 'VIDEO_CORRUPT', retryable: false });
    expect((err as PermanentStageError).detail).toMatch(/moov atom not found/);
  });
});
