// Where the sound is (silencedetect) and how loud it is (EBU R128), in one decoding pass.
import { fileArg, runFfmpeg } from '../ffmpeg.ts';
import type { Stage } from '../types.ts';

const NOISE_DB = -30;
const MIN_SILENCE_SECONDS = 0.3;
/** Activity shorter than this between two silences is a click, not a segment. */
const MIN_ACTIVITY_SECONDS = 0.05;

export interface Segment {
  start: number;
  end: number;
}

export interface Loudness {
  integratedLufs: number | null;
  loudnessRangeLu: number | null;
  truePeakDbfs: number | null;
}

const round = (t: number) => Math.round(t * 1000) / 1000;

/** Parses silencedetect log lines; a silence still open at the end of the stream ends at `duration`. */
export function parseSilences(lines: string[], duration: number): Segment[] {
  const out: Segment[] = [];
  let open: number | null = null;
  for (const line of lines) {
    const start = /silence_start: (-?[\d.e+-]+)/.exec(line);
    const end = /silence_end: (-?[\d.e+-]+)/.exec(line);
    if (start) open = Math.max(0, Number(start[1]));
    else if (end && open !== null) {
      out.push({ start: round(open), end: round(Math.min(duration, Number(end[1]))) });
      open = null;
    }
  }
  if (open !== null && duration > open) out.push({ start: round(open), end: round(duration) });
  return out;
}

/** The gaps between silences: where something is audible. */
export function activityBetween(silences: Segment[], duration: number): Segment[] {
  const out: Segment[] = [];
  let cursor = 0;
  for (const s of [...silences, { start: duration, end: duration }]) {
    if (s.start - cursor >= MIN_ACTIVITY_SECONDS) out.push({ start: round(cursor), end: round(s.start) });
    cursor = Math.max(cursor, s.end);
  }
  return out;
}

/** Reads the ebur128 summary; "-inf" (digital silence) becomes null. */
export function parseLoudness(lines: string[]): Loudness {
  const text = lines.join('\n');
  const summary = text.slice(text.lastIndexOf('Summary:'));
  const pick = (re: RegExp) => {
    const m = re.exec(summary);
    const n = m ? Number(m[1]) : NaN;
    return Number.isFinite(n) ? n : null;
  };
  return {
    integratedLufs: pick(/I:\s+(-?[\d.]+|-?inf) LUFS/),
    loudnessRangeLu: pick(/LRA:\s+(-?[\d.]+|-?inf) LU\b/),
    truePeakDbfs: pick(/Peak:\s+(-?[\d.]+|-?inf) dBFS/),
  };
}

export const audioStage: Stage = {
  name: 'audio',
  description: 'Finds silent and audible segments and measures loudness (EBU R128)',
  shouldSkip: (ctx) => (ctx.source.hasAudio ? null : 'no audio stream'),
  async run(ctx) {
    const duration = ctx.source.durationSeconds;
    const silenceLines: string[] = [];
    const summaryLines: string[] = [];
    let inSummary = false;
    const result = await runFfmpeg(
      [
        '-v',
        'info',
        '-i',
        fileArg(ctx.inputPath),
        '-map',
        '0:a:0',
        '-vn',
        '-af',
        `silencedetect=noise=${NOISE_DB}dB:d=${MIN_SILENCE_SECONDS},ebur128=peak=true`,
        '-f',
        'null',
        '-',
      ],
      {
        ffmpeg: ctx.binaries.ffmpeg,
        signal: ctx.signal,
        durationSeconds: duration,
        onProgress: ctx.reportProgress,
        // Keep only what we parse: ebur128 also logs a line per 100 ms of audio.
        onStderrLine(line) {
          if (line.includes('silence_')) silenceLines.push(line);
          if (line.includes('Summary:')) inSummary = true;
          if (inSummary) summaryLines.push(line);
        },
      },
    );
    const audioDuration = result.outTimeSeconds && result.outTimeSeconds > 0 ? result.outTimeSeconds : duration;
    const silences = parseSilences(silenceLines, audioDuration);
    ctx.reportProgress(1);
    return {
      output: {
        durationSeconds: round(audioDuration),
        silenceThresholdDb: NOISE_DB,
        minSilenceSeconds: MIN_SILENCE_SECONDS,
        silences,
        activity: activityBetween(silences, audioDuration),
        loudness: parseLoudness(summaryLines),
      },
      files: [],
    };
  },
};
