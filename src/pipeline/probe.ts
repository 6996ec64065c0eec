// What the source is (ffprobe) and whether it really decodes (a short ffmpeg decode of both ends).
import type { Readable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { PermanentStageError, summarizeStderr } from './errors.ts';
import { fileArg, runFfmpeg, runProcess, runFfprobe } from './ffmpeg.ts';
import type { VideoMetadata } from './types.ts';

export type { VideoMetadata } from './types.ts';

export interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  duration?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}
export interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string; size?: string };
}

interface ProbeOpts {
  ffprobe: string;
  signal?: AbortSignal;
}

/** ffprobe's JSON for a file; any failure to read it is VIDEO_CORRUPT with ffprobe's own words. */
export async function probeRaw(path: string, opts: ProbeOpts): Promise<ProbeOutput> {
  return (await runFfprobe(['-show_format', '-show_streams', fileArg(path)], { ...opts, exitMeansCorrupt: true })) as ProbeOutput;
}

/** The main picture stream: cover art in an mp4/mkv is a "video" stream too, but not the video. */
export const mainVideoStream = (raw: ProbeOutput) => raw.streams?.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);

/** VP9/VP8 in WebM carry alpha as a side stream: ffprobe shows yuv420p plus the tag alpha_mode=1. */
export function hasAlphaChannel(raw: ProbeOutput): boolean {
  const v = mainVideoStream(raw);
  if (!v) return false;
  const tag = Object.entries(v.tags ?? {}).find(([k]) => k.toLowerCase() === 'alpha_mode')?.[1];
  return tag === '1' || /^(yuva|rgba|argb|bgra|abgr|gbrap|ya)/.test(v.pix_fmt ?? '');
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' || typeof v === 'number' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
};
const rate = (r?: string): number => {
  const [a, b] = (r ?? '').split('/').map(Number);
  return b > 0 && a > 0 ? Math.round((a / b) * 1000) / 1000 : 0;
};
/** Matroska keeps per-stream durations only as a "00:00:02.023000000" tag. */
const clock = (t?: string): number | null => {
  const m = /^(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(t ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
};
const STILL_IMAGE = /(^|,)(image2|[a-z0-9]+_pipe)($|,)/;

/** Builds VideoMetadata, or throws VIDEO_CORRUPT when there is no video to speak of. */
export function metadataFromProbe(raw: ProbeOutput, measuredDuration: number | null = null): VideoMetadata {
  const formatName = raw.format?.format_name ?? 'unknown';
  const v = mainVideoStream(raw);
  if (!v || !v.width || !v.height) throw new PermanentStageError('VIDEO_CORRUPT', `no video stream found (format: ${formatName})`);
  if (STILL_IMAGE.test(formatName)) {
    throw new PermanentStageError('VIDEO_CORRUPT', `the file is a still image (${formatName}), not a video`);
  }
  const a = raw.streams?.find((s) => s.codec_type === 'audio');
  const durationSeconds = num(raw.format?.duration) ?? num(v.duration) ?? clock(v.tags?.DURATION) ?? measuredDuration ?? 0;
  // AVI needs no trailer, so a cut one decodes cleanly; only its header still counts every frame.
  const fps = rate(v.avg_frame_rate);
  const announced = fps > 0 ? (num(v.nb_frames) ?? 0) / fps : 0;
  const held = num(v.duration) ?? durationSeconds;
  if (held > 0 && announced > held * 1.05 + 0.25) {
    throw new PermanentStageError(
      'VIDEO_CORRUPT',
      `the header announces ${v.nb_frames} frames (${announced.toFixed(1)} s) but the file holds only ${held.toFixed(1)} s: it was cut short`,
    );
  }
  const rotation = Math.abs(num(v.side_data_list?.find((d) => d.rotation !== undefined)?.rotation) ?? num(v.tags?.rotate) ?? 0);
  const sideways = rotation % 180 === 90;
  const size = num(raw.format?.size);
  return {
    durationSeconds,
    width: sideways ? v.height : v.width,
    height: sideways ? v.width : v.height,
    videoCodec: v.codec_name ?? 'unknown',
    audioCodec: a?.codec_name ?? null,
    frameRate: rate(v.r_frame_rate) || rate(v.avg_frame_rate),
    bitRate: num(raw.format?.bit_rate) ?? (size && durationSeconds > 0 ? Math.round((size * 8) / durationSeconds) : null),
    hasAudio: a !== undefined,
    formatName,
  };
}

/** Last video packet end, for files whose header has no duration (e.g. WebM from MediaRecorder). */
async function durationFromPackets(path: string, opts: ProbeOpts): Promise<number | null> {
  const { stdout } = await runProcess(
    opts.ffprobe,
    ['-v', 'error', '-select_streams', 'V:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', fileArg(path)],
    { signal: opts.signal, captureStdout: true, exitMeansCorrupt: true },
  );
  let end: number | null = null;
  for (const line of stdout!.toString('utf8').split('\n')) {
    const [pts, dur] = line.split(',').map(Number);
    if (Number.isFinite(pts)) end = Math.max(end ?? 0, pts + (Number.isFinite(dur) ? dur : 0));
  }
  return end;
}

export async function probeVideo(path: string, opts: ProbeOpts): Promise<VideoMetadata> {
  const raw = await probeRaw(path, opts);
  const meta = metadataFromProbe(raw);
  if (meta.durationSeconds > 0) return meta;
  const measured = await durationFromPackets(path, opts);
  if (!measured) throw new PermanentStageError('VIDEO_CORRUPT', 'the video has no frames with timestamps');
  const size = (await stat(path)).size;
  return { ...metadataFromProbe(raw, measured), bitRate: meta.bitRate ?? Math.round((size * 8) / measured) };
}

const CHECK_SECONDS = 2;
/** The tail check seeks this far before the end, to the keyframe before it, and decodes to the end. */
const TAIL_SEEK_SECONDS = 0.05;

/**
 * Decodes the first ~2 s and the last GOP (from the last keyframe to the end) at `-v error`, in two
 * ffmpeg processes side by side (the second core does the tail). A clean file prints nothing; a
 * truncated mkv/webm says "Read error", an mp4 with a damaged mdat "Invalid NAL"/"Error while
 * decoding", a cut mp4 "partial file" or "moov atom not found".
 *
 * The tail starts at the last keyframe rather than 2 s before the end: an accurate seek to end−2 s
 * would decode from the keyframe before that point anyway (up to a whole GOP, 10 s with x264's
 * defaults) only to throw the frames away (BENCHMARKS.md, Uploads).
 */
/** What decoding the head said: its frame count and error lines, or the failure of the decode itself. */
export interface HeadCheck {
  frames: number | null;
  complaints: string[];
  failure?: unknown;
}

/**
 * The head check alone, on a file or on a stream (an upload while it arrives: `-i pipe:0`, so that only
 * the tail is left to decode after the last byte).
 */
export async function decodeHead(input: string | Readable, opts: { ffmpeg: string; signal?: AbortSignal }): Promise<HeadCheck> {
  const complaints: string[] = [];
  try {
    const { frames } = await runFfmpeg(
      [
        '-v',
        'error',
        '-t',
        String(CHECK_SECONDS),
        '-i',
        typeof input === 'string' ? fileArg(input) : 'pipe:0',
        '-map',
        '0:V:0',
        '-map',
        '0:a?',
        '-f',
        'null',
        '-',
      ],
      {
        ffmpeg: opts.ffmpeg,
        signal: opts.signal,
        exitMeansCorrupt: true,
        input: typeof input === 'string' ? undefined : input,
        onStderrLine(line) {
          if (line.trim()) complaints.push(line);
          if (complaints.length > 50) complaints.shift();
        },
      },
    );
    return { frames, complaints };
  } catch (failure) {
    return { frames: null, complaints, failure };
  }
}

export async function verifyDecodable(
  path: string,
  opts: { ffmpeg: string; signal?: AbortSignal; metadata?: VideoMetadata; /** The head, already decoded while the file arrived. */ head?: HeadCheck | null },
): Promise<void> {
  if (opts.metadata && STILL_IMAGE.test(opts.metadata.formatName)) {
    throw new PermanentStageError('VIDEO_CORRUPT', `the file is a still image (${opts.metadata.formatName}), not a video`);
  }
  const complaints: string[] = [];
  const input = fileArg(path);
  // -sseof needs a duration in the header; streamed WebM has none (ffmpeg would then decode it all
  // from the start). probeVideo measured it, so seek by that when we have it.
  const duration = opts.metadata?.durationSeconds ?? 0;
  const tailSeek =
    duration > 0
      ? ['-noaccurate_seek', '-ss', String(Math.max(0, duration - TAIL_SEEK_SECONDS))]
      : ['-sseof', `-${CHECK_SECONDS}`, '-t', String(CHECK_SECONDS)];
  // When one of the two fails, the other is stopped: its answer no longer matters.
  const bothDone = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, bothDone.signal]) : bothDone.signal;
  const decode = (inputArgs: string[]) =>
    runFfmpeg(['-v', 'error', ...inputArgs, '-i', input, '-map', '0:V:0', '-map', '0:a?', '-f', 'null', '-'], {
      ffmpeg: opts.ffmpeg,
      signal,
      exitMeansCorrupt: true,
      onStderrLine(line) {
        if (line.trim()) complaints.push(line);
        if (complaints.length > 50) complaints.shift(); // keep the tail, like the runner does
      },
    });
  let frames: number | null;
  if (opts.head) {
    if (opts.head.failure) throw opts.head.failure;
    complaints.push(...opts.head.complaints);
    frames = opts.head.frames;
    await decode(tailSeek);
  } else {
    [{ frames }] = await Promise.all([decode(['-t', String(CHECK_SECONDS)]), decode(tailSeek)]).catch((error: unknown) => {
      bothDone.abort(error);
      throw error;
    });
  }
  if (complaints.length > 0) {
    throw new PermanentStageError('VIDEO_CORRUPT', summarizeStderr(complaints.join('\n'), [input]));
  }
  // A renamed PNG/JPEG decodes cleanly, but as a single picture.
  if (frames !== null && frames < 2) {
    throw new PermanentStageError('VIDEO_CORRUPT', 'the file decodes to a single picture, not a video');
  }
}
