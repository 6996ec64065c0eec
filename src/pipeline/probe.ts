// What the source is (ffprobe) and whether it really decodes (a short ffmpeg decode of both ends).
import type { Readable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
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

/**
 * How long the main video stream lasts, when the file says (its own duration, or Matroska's DURATION
 * tag). It can be shorter than the container's duration, which is that of the longest stream: 3 s of
 * video with 10 s of audio lasts 10 s, with no picture after 3 s.
 */
export function videoStreamDuration(raw: ProbeOutput): number | null {
  const v = mainVideoStream(raw);
  const d = num(v?.duration) ?? clock(v?.tags?.DURATION);
  return d !== null && d > 0 ? d : null;
}

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

/** What decoding one end said: its frame count and error lines, or the failure of the decode itself. */
export interface DecodeCheck {
  frames: number | null;
  complaints: string[];
  failure?: unknown;
}
/** The head's check (decodeHead). */
export type HeadCheck = DecodeCheck;

/** Whether a check found something wrong. */
const failed = (check: DecodeCheck) => check.failure !== undefined || check.complaints.length > 0;

interface DecodeOpts {
  ffmpeg: string;
  signal?: AbortSignal;
  /** Decoder threads; ffmpeg's own choice (one per core, plus one) when unset. */
  threads?: number;
}

/**
 * Decoder threads for the ends decoded after the last byte. ffmpeg's default gives each process one
 * thread per core plus one, so the head, the tail and ffprobe starting together oversubscribe the
 * cores. The head (about twice the tail's work) gets one thread per core; the tail beside it a third of
 * the cores, at least one, and it runs to the end of its GOP while the head takes the cores it frees.
 * A tail decoded alone (the head was checked while the file arrived) gets one thread per core. On
 * 2 vCPUs: both ends and ffprobe 494 ms instead of 544, the tail and ffprobe 201 ms instead of 220
 * (BENCHMARKS.md, Uploads).
 */
export function decoderThreads(cores: number, headToo: boolean): { head: number; tail: number } {
  const all = Math.max(1, cores);
  return { head: all, tail: headToo ? Math.max(1, Math.round(all / 3)) : all };
}

/** Decodes part of `input` (a file, or a stream on `pipe:0`) at `-v error`; a clean decode prints nothing. */
async function decodePart(input: string | Readable, rangeArgs: string[], opts: DecodeOpts): Promise<DecodeCheck> {
  const complaints: string[] = [];
  const stream = typeof input !== 'string';
  const threads = opts.threads ? ['-threads', String(opts.threads)] : [];
  try {
    const { frames } = await runFfmpeg(
      ['-v', 'error', ...threads, ...rangeArgs, '-i', stream ? 'pipe:0' : fileArg(input), '-map', '0:V:0', '-map', '0:a?', '-f', 'null', '-'],
      {
        ffmpeg: opts.ffmpeg,
        signal: opts.signal,
        exitMeansCorrupt: true,
        input: stream ? input : undefined,
        onStderrLine(line) {
          if (line.trim()) complaints.push(line);
          if (complaints.length > 50) complaints.shift(); // keep the tail, like the runner does
        },
      },
    );
    return { frames, complaints };
  } catch (failure) {
    return { frames: null, complaints, failure };
  }
}

/**
 * The head check alone: the first ~2 s, on a file or on a stream (an upload while it arrives: `-i
 * pipe:0`, so that only the tail is left to decode after the last byte).
 */
export function decodeHead(input: string | Readable, opts: DecodeOpts): Promise<HeadCheck> {
  return decodePart(input, ['-t', String(CHECK_SECONDS)], opts);
}

/**
 * The tail check: from the last keyframe to the end. It seeks by the duration when one is known:
 * -sseof needs a duration in the header, and streamed WebM has none (ffmpeg would then decode it all
 * from the start). `durationInHeader` says the container always has one (MP4/MOV), so the tail can
 * start before ffprobe has said anything.
 *
 * It starts at the last keyframe rather than 2 s before the end: an accurate seek to end−2 s would
 * decode from the keyframe before that point anyway (up to a whole GOP, 10 s with x264's defaults) only
 * to throw the frames away (BENCHMARKS.md, Uploads).
 */
function decodeTail(path: string, durationSeconds: number | 'in-header', opts: DecodeOpts): Promise<DecodeCheck> {
  const seek =
    durationSeconds === 'in-header'
      ? ['-noaccurate_seek', '-sseof', `-${TAIL_SEEK_SECONDS}`]
      : durationSeconds > 0
        ? ['-noaccurate_seek', '-ss', String(Math.max(0, durationSeconds - TAIL_SEEK_SECONDS))]
        : ['-sseof', `-${CHECK_SECONDS}`, '-t', String(CHECK_SECONDS)];
  return decodePart(path, seek, opts);
}

/**
 * The tail check of an MP4/MOV whose `moov` came first, started while its last bytes are still being
 * written: ffmpeg reads the file with `-follow 1`, waiting at its current end for more, and stops at
 * the last sample the moov lists, so a steady upload's tail is decoded as it arrives. A wait longer than
 * `stallSeconds` (the client paused, or the file ended short of what its moov lists: a cut file) ends
 * it with "Input/output error": inconclusive (null), the tail is then decoded after the last byte.
 */
export async function decodeTailWhileWritten(path: string, opts: DecodeOpts & { stallSeconds: number }): Promise<DecodeCheck | null> {
  const follow = ['-follow', '1', '-rw_timeout', String(Math.round(opts.stallSeconds * 1e6))];
  const check = await decodePart(path, [...follow, '-noaccurate_seek', '-sseof', `-${TAIL_SEEK_SECONDS}`], opts);
  return check.complaints.some((line) => /Input\/output error/.test(line)) ? null : check;
}

/**
 * The verdict on both ends: the first check that failed (its own failure, or VIDEO_CORRUPT with what the
 * decoder said). A clean file prints nothing; a truncated mkv/webm says "Read error" (ffmpeg 5+: "File
 * ended prematurely"), an mp4 with a damaged mdat "Invalid NAL"/"Error while decoding", a cut mp4
 * "partial file" or "moov atom not found".
 */
function judge(first: DecodeCheck | null, head: DecodeCheck, path: string): void {
  if (first) {
    if (first.failure !== undefined) throw first.failure;
    throw new PermanentStageError('VIDEO_CORRUPT', summarizeStderr(first.complaints.join('\n'), [fileArg(path)]));
  }
  // A renamed PNG/JPEG decodes cleanly, but as a single picture.
  if (head.frames !== null && head.frames < 2) {
    throw new PermanentStageError('VIDEO_CORRUPT', 'the file decodes to a single picture, not a video');
  }
}

/**
 * Runs the two ends' checks side by side (the second core does the tail); the first to fail stops the
 * other, whose answer no longer matters, as does aborting `stop`. Resolves once every ffmpeg has exited,
 * with the head's check and the first that failed.
 */
async function decodeBothEnds(
  head: (signal: AbortSignal) => Promise<DecodeCheck>,
  tail: (signal: AbortSignal) => Promise<DecodeCheck>,
  opts: { signal?: AbortSignal; stop?: AbortController },
): Promise<{ head: DecodeCheck; first: DecodeCheck | null }> {
  const stop = opts.stop ?? new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let first: DecodeCheck | null = null;
  const watch = (check: (signal: AbortSignal) => Promise<DecodeCheck>) =>
    check(signal)
      .catch((failure: unknown): DecodeCheck => ({ frames: null, complaints: [], failure }))
      .then((c) => {
        if (failed(c) && !first) {
          first = c;
          stop.abort(new Error('the other end of the decode check failed'));
        }
        return c;
      });
  const [headCheck] = await Promise.all([watch(head), watch(tail)]);
  return { head: headCheck, first };
}

/**
 * What the source is (probeVideo) and whether it decodes: ffprobe, a decode of the first ~2 s and one of
 * the last GOP run side by side (after the last byte of an upload, every process that can start now
 * shortens the wait). The tail waits for
 * ffprobe's duration unless the container has one in its header (`durationInHeader`: MP4/MOV). Errors
 * come in the order the checks did one after another: ffprobe's first, then the decoders'.
 */
export async function probeAndVerify(
  path: string,
  opts: {
    ffprobe: string;
    ffmpeg: string;
    signal?: AbortSignal;
    durationInHeader?: boolean;
    /** The head's check begun while the file arrived; null when it was abandoned (then it is decoded here). */
    head?: Promise<HeadCheck | null> | null;
    /** The tail's check begun while the file arrived (decodeTailWhileWritten); null: decoded here. */
    tail?: Promise<DecodeCheck | null> | null;
  },
): Promise<VideoMetadata> {
  const { ffmpeg } = opts;
  const probe = probeVideo(path, { ffprobe: opts.ffprobe, signal: opts.signal });
  probe.catch(() => {}); // awaited below, after the decoders have started
  const stop = new AbortController();
  const threads = decoderThreads(availableParallelism(), !opts.head);
  const decoded = decodeBothEnds(
    async (signal) => (await opts.head) ?? decodeHead(path, { ffmpeg, signal, threads: threads.head }),
    async (signal) =>
      (await opts.tail) ?? decodeTail(path, opts.durationInHeader ? 'in-header' : (await probe).durationSeconds, { ffmpeg, signal, threads: threads.tail }),
    { signal: opts.signal, stop },
  );
  let metadata: VideoMetadata;
  try {
    metadata = await probe;
  } catch (error) {
    stop.abort(error); // the decoders' verdict no longer matters; wait until no ffmpeg is left
    await decoded;
    throw error;
  }
  const result = await decoded;
  judge(result.first, result.head, path);
  return metadata;
}
