// The deliverable video: H.264/AAC in MP4 or VP9/Opus in WebM, optionally with the background
// keyed out (chromakey) and either kept transparent (VP9 alpha) or replaced by a solid colour.
import { PermanentStageError, TransientStageError } from '../errors.ts';
import { fileArg, runFfmpeg } from '../ffmpeg.ts';
import { describeFile, writeAtomically } from '../files.ts';
import { wantsTransparency, type ProcessingModel, type ProcessingOptions } from '../options.ts';
import { hasAlphaChannel, metadataFromProbe, probeRaw } from '../probe.ts';
import type { Stage, VideoMetadata } from '../types.ts';

const FAST_MAX_HEIGHT = 480;

// Presets trade speed for quality; CRF is constant quality (lower = better, bigger).
const X264: Record<ProcessingModel, string[]> = {
  FAST: ['-preset', 'veryfast', '-crf', '26'],
  ORIGINAL: ['-preset', 'medium', '-crf', '23'],
  PRO: ['-preset', 'slow', '-crf', '18'],
};
const VP9: Record<ProcessingModel, string[]> = {
  FAST: ['-deadline', 'realtime', '-cpu-used', '8', '-crf', '38'],
  ORIGINAL: ['-deadline', 'good', '-cpu-used', '4', '-crf', '32'],
  PRO: ['-deadline', 'good', '-cpu-used', '2', '-crf', '26'],
};
const AUDIO_BITRATE: Record<ProcessingModel, string> = { FAST: '96k', ORIGINAL: '128k', PRO: '192k' };

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** Output size: the source's (made even for 4:2:0), or at most 480 tall for FAST. */
export function targetSize(source: VideoMetadata, model: ProcessingModel): { width: number; height: number } {
  const shrink = model === 'FAST' && source.height > FAST_MAX_HEIGHT ? FAST_MAX_HEIGHT / source.height : 1;
  return { width: even(source.width * shrink), height: even(source.height * shrink) };
}

const hex = (c: string) => `0x${c.replace('#', '')}`;

/** -filter_complex graph ending in [v]. */
export function videoFilter(options: ProcessingOptions, size: { width: number; height: number }): string {
  const scale = `[0:V:0]scale=${size.width}:${size.height}`;
  const bg = options.background;
  if (!bg?.remove) return `${scale},format=yuv420p[v]`;
  const key = `chromakey=color=${hex(bg.color)}:similarity=${bg.similarity}:blend=0.05`;
  if (bg.replaceWith === null) return `${scale},${key},format=yuva420p[v]`;
  // Two copies of the same frames keep the backdrop in lockstep with the subject (same timestamps).
  return `${scale},split[a][b];[a]drawbox=c=${hex(bg.replaceWith)}:t=fill[bg];` + `[b]${key}[fg];[bg][fg]overlay=format=auto,format=yuv420p[v]`;
}

export function encoderArgs(options: ProcessingOptions): string[] {
  const { model, outputFormat } = options;
  const alpha = wantsTransparency(options);
  if (outputFormat === 'MP4') {
    if (alpha) throw new PermanentStageError('INVALID_INPUT', 'MP4 cannot carry transparency');
    return ['-c:v', 'libx264', ...X264[model], '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-c:a', 'aac', '-b:a', AUDIO_BITRATE[model], '-f', 'mp4'];
  }
  return [
    '-c:v',
    'libvpx-vp9',
    ...VP9[model],
    '-b:v',
    '0',
    '-row-mt',
    '1',
    // libvpx encodes alpha as a second stream; alt-ref frames are not supported alongside it.
    ...(alpha ? ['-pix_fmt', 'yuva420p', '-auto-alt-ref', '0'] : ['-pix_fmt', 'yuv420p']),
    '-c:a',
    'libopus',
    '-b:a',
    AUDIO_BITRATE[model],
    '-f',
    'webm',
  ];
}

export const transcodeStage: Stage = {
  name: 'transcode',
  description: 'Encodes the video to MP4 (H.264/AAC) or WebM (VP9/Opus), optionally removing the background',
  async run(ctx) {
    const { options, source } = ctx;
    const webm = options.outputFormat === 'WEBM';
    const name = webm ? 'video.webm' : 'video.mp4';
    const contentType = webm ? 'video/webm' : 'video/mp4';
    const size = targetSize(source, options.model);
    const meta = await writeAtomically(ctx.outputDir, [name], async ([partial]) => {
      await runFfmpeg(
        [
          '-v',
          'error',
          '-i',
          fileArg(ctx.inputPath),
          '-filter_complex',
          videoFilter(options, size),
          '-map',
          '[v]',
          '-map',
          '0:a:0?',
          ...encoderArgs(options),
          '-y',
          fileArg(partial),
        ],
        {
          ffmpeg: ctx.binaries.ffmpeg,
          signal: ctx.signal,
          durationSeconds: source.durationSeconds,
          onProgress: (f) => ctx.reportProgress(f * 0.98), // the last 2%: checking the result
        },
      );
      // Describe what was actually written, not what was asked for.
      const raw = await probeRaw(partial, { ffprobe: ctx.binaries.ffprobe, signal: ctx.signal }).catch((err) => {
        // An unreadable result is our failure, not a corrupt upload.
        throw err instanceof PermanentStageError ? new TransientStageError('INTERNAL_ERROR', `unreadable output: ${err.detail}`) : err;
      });
      return { ...metadataFromProbe(raw), hasAlpha: hasAlphaChannel(raw) };
    });
    const file = await describeFile(ctx.outputDir, name, 'video', contentType);
    ctx.reportProgress(1);
    return {
      output: {
        format: options.outputFormat,
        codec: meta.videoCodec,
        audioCodec: meta.audioCodec,
        width: meta.width,
        height: meta.height,
        durationSeconds: meta.durationSeconds,
        hasAlpha: meta.hasAlpha,
        sizeBytes: file.sizeBytes,
        file: name,
      },
      files: [file],
    };
  },
};
