// Scene cuts in one pass: `select` keeps the first frame and every frame whose scene score passes
// the threshold, `metadata=print` logs its time and score, and the same frames, shrunk to 9x8
// gray, go to stdout as 72-byte records for a difference hash.
import { fileArg, runFfmpeg } from '../ffmpeg.ts';
import { TransientStageError } from '../errors.ts';
import type { Stage } from '../types.ts';

const THRESHOLD = 0.3;
/** Scene scores barely change with resolution; detecting on a small copy is much cheaper. */
const ANALYSIS_WIDTH = 160;
const HASH_W = 9;
const HASH_H = 8;

/** 64-bit dHash: for each of 8 rows, 8 bits "is this pixel brighter than its right neighbour". */
export function dHash(gray: Uint8Array): string {
  let bits = 0n;
  for (let y = 0; y < HASH_H; y++) {
    for (let x = 0; x < HASH_W - 1; x++) {
      bits = (bits << 1n) | (gray[y * HASH_W + x] > gray[y * HASH_W + x + 1] ? 1n : 0n);
    }
  }
  return bits.toString(16).padStart(16, '0');
}

/** Pairs "pts_time:…" with the following "lavfi.scene_score=…" from metadata=print lines. */
export function parseSceneLog(lines: string[]): { time: number; score: number }[] {
  const out: { time: number; score: number }[] = [];
  for (const line of lines) {
    const t = /pts_time:(-?[\d.e+-]+)/.exec(line);
    const s = /lavfi\.scene_score=([\d.e+-]+)/.exec(line);
    if (t) out.push({ time: Math.max(0, Number(t[1])), score: 0 });
    else if (s && out.length > 0) out[out.length - 1].score = Number(s[1]);
  }
  return out;
}

const round = (t: number) => Math.round(t * 1000) / 1000;

export const scenesStage: Stage = {
  name: 'scenes',
  description: 'Detects scene cuts and fingerprints the first frame of each scene (dHash)',
  async run(ctx) {
    const duration = ctx.source.durationSeconds;
    const log: string[] = [];
    const filter =
      `scale=${ANALYSIS_WIDTH}:-2,select='if(eq(n\\,0)\\,1\\,gt(scene\\,${THRESHOLD}))',metadata=print,` + `scale=${HASH_W}:${HASH_H}:flags=area,format=gray`;
    const { stdout } = await runFfmpeg(
      // -vsync 0: pass the selected frames through, never duplicate them to fill a constant rate.
      ['-v', 'info', '-i', fileArg(ctx.inputPath), '-map', '0:V:0', '-an', '-sn', '-vf', filter, '-vsync', '0', '-f', 'rawvideo', 'pipe:1'],
      {
        ffmpeg: ctx.binaries.ffmpeg,
        signal: ctx.signal,
        captureStdout: true,
        durationSeconds: duration,
        onProgress: ctx.reportProgress,
        onStderrLine: (line) => (line.includes('pts_time:') || line.includes('scene_score')) && log.push(line),
      },
    );
    const cuts = parseSceneLog(log);
    const frameBytes = HASH_W * HASH_H;
    if (cuts.length === 0 || stdout!.length !== cuts.length * frameBytes) {
      throw new TransientStageError('INTERNAL_ERROR', `scene detection returned ${cuts.length} cuts and ${stdout!.length} bytes of frames`);
    }
    // Timestamps count from the container's start (e.g. 0.021 s in mkv); players count from the first frame.
    const origin = cuts[0].time;
    const at = (t: number) => round(Math.max(0, t - origin));
    const scenes = cuts.map((c, i) => ({
      index: i,
      start: at(i === 0 ? origin : c.time),
      end: i + 1 < cuts.length ? at(cuts[i + 1].time) : round(Math.max(duration, c.time - origin)),
      score: i === 0 ? null : round(c.score),
      hash: dHash(stdout!.subarray(i * frameBytes, (i + 1) * frameBytes)),
    }));
    ctx.reportProgress(1);
    return { output: { threshold: THRESHOLD, hashAlgorithm: 'dhash-64', scenes }, files: [] };
  },
};
