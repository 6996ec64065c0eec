// HTTP Live Streaming: an adaptive ladder (240p … 1080p, never above the source) of H.264/AAC
// renditions in ~4 s fMP4 segments, one playlist per rendition and a master playlist, encoded in
// ONE ffmpeg run (the source is decoded once and split). Files land in hls/ only when the whole ladder
// is written. Playlists use relative URIs: they play through the directory-signed download URLs that
// downloads/urls.ts gives hls files.
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { contentTypeOf } from '../content-types.ts';
import { TransientStageError } from '../errors.ts';
import { fileArg, runFfmpeg } from '../ffmpeg.ts';
import type { OutputFile, Stage, VideoMetadata } from '../types.ts';

export const HLS_DIR = 'hls';
export const HLS_MASTER = 'master.m3u8';
export const SEGMENT_SECONDS = 4;

/** Standard heights with their video bitrates (kbit/s). */
const LADDER = [
  { height: 240, videoKbps: 400 },
  { height: 360, videoKbps: 800 },
  { height: 480, videoKbps: 1400 },
  { height: 720, videoKbps: 2800 },
  { height: 1080, videoKbps: 5000 },
];
const AUDIO_KBPS = 128;

export interface Rendition {
  name: string;
  width: number;
  height: number;
  videoKbps: number;
  playlist: string;
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** The renditions for a source: every standard height up to its own (one at its height when smaller than 240p). */
export function ladderFor(source: Pick<VideoMetadata, 'width' | 'height'>): Rendition[] {
  const steps = LADDER.filter((step) => step.height <= source.height);
  const chosen = steps.length ? steps : [{ height: even(source.height), videoKbps: LADDER[0].videoKbps }];
  return chosen.map(({ height, videoKbps }) => {
    const name = `${height}p`;
    return { name, height, width: even((source.width * height) / source.height), videoKbps, playlist: `${HLS_DIR}/${name}/index.m3u8` };
  });
}

/** The ffmpeg arguments that write the whole ladder into `dir`. */
export function hlsArgs(input: string, dir: string, renditions: Rendition[], hasAudio: boolean): string[] {
  const n = renditions.length;
  const split = n > 1 ? `[0:V:0]split=${n}${renditions.map((_, i) => `[s${i}]`).join('')};` : '';
  const scales = renditions.map((r, i) => `[${n > 1 ? `s${i}` : '0:V:0'}]scale=${r.width}:${r.height},format=yuv420p[v${i}]`).join(';');
  const perRendition = renditions.flatMap((r, i) => [
    '-map',
    `[v${i}]`,
    ...(hasAudio ? ['-map', '0:a:0'] : []),
    `-b:v:${i}`,
    `${r.videoKbps}k`,
    `-maxrate:v:${i}`,
    `${Math.round(r.videoKbps * 1.07)}k`,
    `-bufsize:v:${i}`,
    `${r.videoKbps * 2}k`,
  ]);
  // %v is the variant's index (the bundled ffmpeg predates `name:` in var_stream_map, and its
  // -master_pl_name crashes at the end of a run): the stage names the directories and writes the master
  // playlist itself after the run (finishLadder).
  const streamMap = renditions.map((_, i) => `v:${i}${hasAudio ? `,a:${i}` : ''}`).join(' ');
  return [
    '-v',
    'error',
    '-i',
    fileArg(input),
    '-filter_complex',
    split + scales,
    ...perRendition,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'main',
    // A keyframe every 2 s in every rendition, none elsewhere: segments align across the ladder.
    '-force_key_frames',
    'expr:gte(t,n_forced*2)',
    '-sc_threshold',
    '0',
    ...(hasAudio ? ['-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`, '-ac', '2'] : []),
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT_SECONDS),
    '-hls_playlist_type',
    'vod',
    '-hls_flags',
    'independent_segments',
    // fMP4 (CMAF) segments: what current players prefer, and what ffprobe reads over HTTP (the bundled
    // ffprobe crashes on MPEG-TS).
    '-hls_segment_type',
    'fmp4',
    '-hls_fmp4_init_filename',
    'init.mp4',
    '-hls_segment_filename',
    path.join(dir, '%v', 'seg_%03d.m4s'),
    '-var_stream_map',
    streamMap,
    '-y',
    path.join(dir, '%v', 'index.m3u8'),
  ];
}

export const hlsStage: Stage = {
  name: 'hls',
  description: 'An HTTP Live Streaming ladder (240p up to 1080p, never above the source): H.264/AAC, ~4 s segments, a master playlist',
  async run(ctx) {
    const renditions = ladderFor(ctx.source);
    const final = path.join(ctx.outputDir, HLS_DIR);
    const partial = path.join(ctx.outputDir, `.${HLS_DIR}.partial`);
    await rm(partial, { recursive: true, force: true });
    await Promise.all(renditions.map((_, i) => mkdir(path.join(partial, String(i)), { recursive: true })));
    try {
      await runFfmpeg(hlsArgs(ctx.inputPath, partial, renditions, ctx.source.hasAudio), {
        ffmpeg: ctx.binaries.ffmpeg,
        signal: ctx.signal,
        durationSeconds: ctx.source.durationSeconds,
        onProgress: (f) => ctx.reportProgress(f * 0.99),
      });
      await finishLadder(partial, renditions, ctx.source);
      await rm(final, { recursive: true, force: true });
      await rename(partial, final);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
    const files: OutputFile[] = [];
    for (const name of [HLS_MASTER, ...renditions.flatMap((r) => [`${r.name}/index.m3u8`])]) files.push(await describe(final, name));
    for (const r of renditions) {
      // Its init segment (init_<n>.mp4, named by ffmpeg) and media segments.
      for (const segment of (await readdir(path.join(final, r.name))).filter((f) => f.endsWith('.m4s') || f.endsWith('.mp4')).sort()) {
        files.push(await describe(final, `${r.name}/${segment}`));
      }
    }
    ctx.reportProgress(1);
    return {
      output: {
        masterPlaylist: `${HLS_DIR}/${HLS_MASTER}`,
        segmentSeconds: SEGMENT_SECONDS,
        renditions: renditions.map((r) => ({ ...r, audioKbps: ctx.source.hasAudio ? AUDIO_KBPS : null })),
        segments: files.filter((f) => f.path.endsWith('.m4s')).length,
      },
      files,
    };
  },
};

/** Variant directories 0, 1, … become 240p, 360p, …, and the master playlist lists them. */
async function finishLadder(dir: string, renditions: Rendition[], source: Pick<VideoMetadata, 'hasAudio' | 'frameRate'>) {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const [i, r] of renditions.entries()) {
    const playlist = await stat(path.join(dir, String(i), 'index.m3u8')).catch(() => null);
    if (!playlist?.size) throw new TransientStageError('INTERNAL_ERROR', `ffmpeg wrote no playlist for ${r.name}`);
    await rename(path.join(dir, String(i)), path.join(dir, r.name));
    const peakKbps = Math.round(r.videoKbps * 1.07) + (source.hasAudio ? AUDIO_KBPS : 0);
    const frameRate = source.frameRate > 0 ? `,FRAME-RATE=${source.frameRate.toFixed(3)}` : '';
    lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${peakKbps * 1000},RESOLUTION=${r.width}x${r.height}${frameRate}`, `${r.name}/index.m3u8`);
  }
  await writeFile(path.join(dir, HLS_MASTER), `${lines.join('\n')}\n`);
}

async function describe(dir: string, name: string): Promise<OutputFile> {
  const { size } = await stat(path.join(dir, name));
  return { kind: 'hls', path: `${HLS_DIR}/${name}`, contentType: contentTypeOf(name), sizeBytes: size };
}
