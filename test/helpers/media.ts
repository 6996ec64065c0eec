// Test media made with ffmpeg at test time: tiny (320x240, ~2 s) so every test file can afford to
// generate what it needs in beforeAll.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveBinaries } from '../../src/pipeline/binaries.ts';

const run = promisify(execFile);
export const binaries = resolveBinaries({ ffmpegPath: undefined, ffprobePath: undefined });

export type Container = 'mp4' | 'mov' | 'avi' | 'mkv' | 'webm';
export const CONTAINERS: Container[] = ['mp4', 'mov', 'avi', 'mkv', 'webm'];

export interface VideoSpec {
  format: Container;
  seconds?: number;
  audio?: boolean;
  /** Hard cuts between distinct pictures (red, blue, test pattern, …), one per ~0.7 s. */
  scenes?: boolean;
  /** A moving test-pattern "subject" over a #00ff00 background. */
  greenScreen?: boolean;
  /** Audio alternates 0.5 s of tone and 0.5 s of digital silence. */
  silenceGaps?: boolean;
  width?: number;
  height?: number;
  /** Output file name (without extension); defaults to a counter. */
  name?: string;
}

const CODECS: Record<Container, string[]> = {
  mp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-movflags', '+faststart'],
  mov: ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
  mkv: ['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
  avi: ['-c:v', 'mpeg4', '-q:v', '5', '-c:a', 'libmp3lame'],
  webm: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-c:a', 'libopus'],
};

// Every graph in makeVideo ends in format=yuv420p: from testsrc's RGB, VP9 would otherwise pick
// gbrp (profile 1) and x264 4:4:4, which many players cannot show.
let counter = 0;

export async function ffmpeg(args: string[]): Promise<void> {
  await run(binaries.ffmpeg, ['-hide_banner', '-v', 'error', '-nostdin', '-y', ...args], { maxBuffer: 1 << 24 });
}

export async function makeVideo(dir: string, spec: VideoSpec): Promise<string> {
  const { format, seconds = 2, audio = true, width = 320, height = 240 } = spec;
  const s = `${width}x${height}`;
  const out = path.join(dir, `${spec.name ?? `clip-${++counter}`}.${format}`);
  const inputs: string[] = [];
  let graph: string;
  if (spec.scenes) {
    const colours = ['red', 'blue', 'testsrc', 'yellow', 'black', 'white'];
    const n = Math.max(2, Math.round(seconds / 0.7));
    const part = seconds / n;
    for (let i = 0; i < n; i++) {
      const c = colours[i % colours.length];
      inputs.push('-f', 'lavfi', '-i', c === 'testsrc' ? `testsrc=s=${s}:r=25:d=${part}` : `color=c=${c}:s=${s}:r=25:d=${part}`);
    }
    graph = `${Array.from({ length: n }, (_, i) => `[${i}:v]`).join('')}concat=n=${n}:v=1:a=0,format=yuv420p[v]`;
  } else if (spec.greenScreen) {
    const box = `${Math.round(width * 0.4)}x${Math.round(height * 0.4)}`;
    inputs.push('-f', 'lavfi', '-i', `color=c=0x00ff00:s=${s}:r=25:d=${seconds}`);
    inputs.push('-f', 'lavfi', '-i', `testsrc=s=${box}:r=25:d=${seconds}`);
    graph = `[0:v][1:v]overlay=x='W*0.1+t*20':y=H*0.3:shortest=1,format=yuv420p[v]`;
  } else {
    inputs.push('-f', 'lavfi', '-i', `testsrc=s=${s}:r=25:d=${seconds}`);
    graph = `[0:v]format=yuv420p[v]`;
  }
  const videoInputs = inputs.length / 4;
  const maps = ['-map', '[v]'];
  if (audio) {
    const tone = spec.silenceGaps
      ? `aevalsrc='if(lt(mod(t\\,1)\\,0.5)\\,0.5*sin(2*PI*440*t)\\,0)':s=48000:d=${seconds}`
      : `sine=frequency=440:sample_rate=48000:duration=${seconds}`;
    inputs.push('-f', 'lavfi', '-i', tone);
    maps.push('-map', `${videoInputs}:a`);
  }
  await ffmpeg([...inputs, '-filter_complex', graph, ...maps, ...CODECS[format], '-t', String(seconds), out]);
  return out;
}

/** A copy cut to the first `keepFraction` of its bytes, as an interrupted upload leaves it. */
export async function makeTruncated(file: string, keepFraction: number): Promise<string> {
  const data = await readFile(file);
  const out = path.join(path.dirname(file), `truncated-${Math.round(keepFraction * 100)}-${path.basename(file)}`);
  await writeFile(out, data.subarray(0, Math.floor(data.length * keepFraction)));
  return out;
}

/**
 * An MP4 whose `atom` (stts, stco…) claims 2^31-1 entries: ffprobe and the decoders then ask for memory
 * no machine has, and say "Cannot allocate memory", though the fault is the file's.
 */
export async function makeAbsurdCount(file: string, atom = 'stts'): Promise<string> {
  const data = Buffer.from(await readFile(file));
  const at = data.indexOf(atom);
  if (at < 0) throw new Error(`no ${atom} atom in ${file}`);
  data.writeUInt32BE(0x7fffffff, at + 8); // after the type and the version and flags: the entry count
  const out = path.join(path.dirname(file), `absurd-${atom}-${path.basename(file)}`);
  await writeFile(out, data);
  return out;
}

/** Deterministic noise (xorshift32), so a failing test fails the same way every run. */
function noise(length: number, seed = 0x9e3779b9): Buffer {
  const buf = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** End of the header: for MP4/MOV with moov first, everything up to mdat's payload; else 4 KiB. */
function headerLength(data: Buffer): number {
  let i = 0;
  while (i + 8 <= data.length) {
    const size = data.readUInt32BE(i);
    const type = data.toString('latin1', i + 4, i + 8);
    if (type === 'mdat') return i + 8;
    if (size < 8) break;
    i += size;
  }
  return Math.min(4096, data.length);
}

/** Same size, valid header (ftyp+moov, or the first 4 KiB), the media data replaced by noise. */
export async function makeGarbageAfterHeader(file: string): Promise<string> {
  const data = await readFile(file);
  const keep = headerLength(data);
  const out = path.join(path.dirname(file), `garbage-${path.basename(file)}`);
  await writeFile(out, Buffer.concat([data.subarray(0, keep), noise(data.length - keep)]));
  return out;
}

export async function makePng(dir: string, name = 'picture.png'): Promise<string> {
  const out = path.join(dir, name);
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=320x240', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', out]);
  return out;
}

/** An FLV (H.264/AAC), a real video in a container the service does not accept. */
export async function makeFlv(dir: string): Promise<string> {
  const out = path.join(dir, `clip-${++counter}.flv`);
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=320x240:r=25:d=1',
    '-f',
    'lavfi',
    '-i',
    'sine=d=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-f',
    'flv',
    out,
  ]);
  return out;
}

/** A WebM written to a pipe, so its header has no duration, the way browsers' MediaRecorder makes them. */
export async function makeStreamedWebm(dir: string): Promise<string> {
  const out = path.join(dir, `streamed-${++counter}.webm`);
  const fh = await open(out, 'w');
  try {
    const child = spawn(
      binaries.ffmpeg,
      ['-v', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=2', ...CODECS.webm.slice(0, 8), '-pix_fmt', 'yuv420p', '-f', 'webm', 'pipe:1'],
      { stdio: ['ignore', fh.fd, 'inherit'] },
    );
    const [code] = await once(child, 'close');
    if (code !== 0) throw new Error(`ffmpeg exited with ${code}`);
  } finally {
    await fh.close();
  }
  return out;
}

/** Copies `file` under another name (e.g. a PNG renamed to .mp4). */
export async function renamedCopy(file: string, newName: string): Promise<string> {
  const out = path.join(path.dirname(file), newName);
  await copyFile(file, out);
  return out;
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** ffprobe's JSON for a file, for assertions. */
export async function ffprobeJson(file: string): Promise<{
  format: Record<string, string>;
  streams: Record<string, unknown>[];
}> {
  const { stdout } = await run(binaries.ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  return JSON.parse(stdout);
}
