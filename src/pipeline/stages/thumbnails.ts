// A poster and evenly spaced thumbnails, 320 px wide, all from one ffmpeg (one input per time).
import { runFfmpeg, fileArg } from '../ffmpeg.ts';
import { describeFile, writeAtomically } from '../files.ts';
import { probeRaw, videoStreamDuration } from '../probe.ts';
import type { Stage } from '../types.ts';

const WIDTH = 320;
const MAX_THUMBNAILS = 5;

/** One thumbnail per second of video up to 5, at the middle of equal slices (never the last frame). */
export function thumbnailTimes(duration: number): number[] {
  const n = Math.max(1, Math.min(MAX_THUMBNAILS, Math.floor(duration)));
  return Array.from({ length: n }, (_, i) => round((duration * (i + 0.5)) / n));
}

/** 10% in skips black lead-ins and fades, capped so long videos still show their opening. */
export const posterTime = (duration: number) => round(Math.min(duration * 0.1, 10));

const round = (t: number) => Math.round(t * 1000) / 1000;

export const thumbnailsStage: Stage = {
  name: 'thumbnails',
  description: `Extracts a poster and up to ${MAX_THUMBNAILS} thumbnails (JPEG, ${WIDTH} px wide)`,
  async run(ctx) {
    // Times within the video stream: the source's duration is the container's, that of its longest
    // stream, and a seek past the last picture (audio running on after the video) makes ffmpeg exit 0
    // with no image at all.
    const raw = await probeRaw(ctx.inputPath, { ffprobe: ctx.binaries.ffprobe, signal: ctx.signal });
    const duration = Math.min(ctx.source.durationSeconds, videoStreamDuration(raw) ?? Infinity);
    const shots = [
      { kind: 'poster', time: posterTime(duration), name: 'poster.jpg' },
      ...thumbnailTimes(duration).map((time, i) => ({ kind: 'thumbnail', time, name: `thumbnail-${i + 1}.jpg` })),
    ];
    // Display aspect (dar) rather than pixel size, so anamorphic sources are not squeezed.
    const scale = `scale=w=${WIDTH}:h=trunc(ow/dar/2)*2,setsar=1`;
    await writeAtomically(
      ctx.outputDir,
      shots.map((s) => s.name),
      (partials) => {
        const args = ['-v', 'error'];
        for (const s of shots) args.push('-ss', String(s.time), '-i', fileArg(ctx.inputPath));
        shots.forEach((_, i) => {
          args.push('-map', `${i}:V:0`, '-vf', scale, '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2', '-y', fileArg(partials[i]));
        });
        // No meaningful -progress here (each output is one frame); this run takes well under a second.
        return runFfmpeg(args, { ffmpeg: ctx.binaries.ffmpeg, signal: ctx.signal });
      },
    );
    ctx.reportProgress(1);
    const files = await Promise.all(shots.map((s) => describeFile(ctx.outputDir, s.name, s.kind, 'image/jpeg')));
    return {
      output: {
        width: WIDTH,
        poster: { time: shots[0].time, file: shots[0].name },
        thumbnails: shots.slice(1).map((s) => ({ time: s.time, file: s.name })),
      },
      files,
    };
  },
};
