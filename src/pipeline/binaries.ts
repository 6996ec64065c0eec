// Which ffmpeg/ffprobe to run: configured path, else one on PATH, else the bundled static build.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Config } from '../config.ts';
import type { Binaries } from './types.ts';

const require = createRequire(import.meta.url);
const cache = new Map<string, Binaries>();

/** True when `name` runs from PATH. Spawning (rather than scanning PATH) keeps process.env in config.ts. */
function onPath(name: string): boolean {
  const r = spawnSync(name, ['-version'], { stdio: 'ignore', timeout: 10_000 });
  return !r.error && r.status === 0;
}

function bundled(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string {
  // Loaded lazily: these packages throw at import time when their platform binary is missing,
  // which must not break a deployment that configures its own paths.
  return (require(pkg) as { path: string }).path;
}

export function resolveBinaries(config: Pick<Config, 'ffmpegPath' | 'ffprobePath'>): Binaries {
  const key = `${config.ffmpegPath ?? ''}\0${config.ffprobePath ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const result: Binaries = {
    ffmpeg: config.ffmpegPath ?? (onPath('ffmpeg') ? 'ffmpeg' : bundled('@ffmpeg-installer/ffmpeg')),
    ffprobe: config.ffprobePath ?? (onPath('ffprobe') ? 'ffprobe' : bundled('@ffprobe-installer/ffprobe')),
  };
  cache.set(key, result);
  return result;
}
