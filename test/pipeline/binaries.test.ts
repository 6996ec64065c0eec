import { accessSync, constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveBinaries } from '../../src/pipeline/binaries.ts';

describe('resolveBinaries', () => {
  it('uses the configured paths when they are set', () => {
    expect(resolveBinaries({ ffmpegPath: '/opt/ff/ffmpeg', ffprobePath: '/opt/ff/ffprobe' })).toEqual({
      ffmpeg: '/opt/ff/ffmpeg',
      ffprobe: '/opt/ff/ffprobe',
    });
  });

  it('falls back to ffmpeg on PATH or the bundled static build, and caches the answer', () => {
    const found = resolveBinaries({ ffmpegPath: undefined, ffprobePath: undefined });
    for (const bin of [found.ffmpeg, found.ffprobe]) {
      if (bin.includes('/')) accessSync(bin, constants.X_OK);
      else expect(['ffmpeg', 'ffprobe']).toContain(bin);
    }
    expect(resolveBinaries({ ffmpegPath: undefined, ffprobePath: undefined })).toBe(found);
  });

  it('mixes a configured ffmpeg with a discovered ffprobe', () => {
    const r = resolveBinaries({ ffmpegPath: '/opt/ff/ffmpeg', ffprobePath: undefined });
    expect(r.ffmpeg).toBe('/opt/ff/ffmpeg');
    expect(r.ffprobe).toMatch(/ffprobe$/);
  });
});
