// The head check while an upload arrives (src/uploads/early-head.ts): which containers can be checked
// early, and that the check fed chunk by chunk says what the after-the-fact check says.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moovFirst, startEarlyHeadCheck } from '../../src/uploads/early-head';
import { binaries, ffmpeg, makeGarbageAfterHeader, makeVideo } from '../helpers/media';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-early-head-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** Writes a file in 64 KB chunks, as an upload arrives, telling the check as it grows, then ends it. */
async function feedFile(file: string, format: 'mp4' | 'mov' | 'mkv' | 'webm' | 'avi') {
  const bytes = await fs.readFile(file);
  const temp = path.join(dir, `arriving-${path.basename(file)}`);
  const check = startEarlyHeadCheck(bytes.subarray(0, 4096), format, temp, binaries.ffmpeg);
  if (!check) return null;
  const out = await fs.open(temp, 'w');
  for (let at = 0; at < bytes.length; at += 64 * 1024) {
    await out.write(bytes.subarray(at, at + 64 * 1024), 0, Math.min(64 * 1024, bytes.length - at), at);
    check.grow(Math.min(at + 64 * 1024, bytes.length));
  }
  await out.close();
  check.end();
  return check.result;
}

describe('the early head check', () => {
  it('runs for Matroska, WebM, AVI and MP4/MOV with their moov first, not for an MP4 whose moov is at the end', async () => {
    const faststart = await makeVideo(dir, { format: 'mp4', seconds: 1, name: 'faststart' }); // the helper writes +faststart
    const moovLast = path.join(dir, 'moov-last.mp4');
    await ffmpeg(['-i', faststart, '-c', 'copy', '-movflags', '-faststart', moovLast]);
    expect(moovFirst(await fs.readFile(faststart))).toBe(true);
    expect(moovFirst(await fs.readFile(moovLast))).toBe(false);
    expect(startEarlyHeadCheck((await fs.readFile(moovLast)).subarray(0, 4096), 'mp4', moovLast, binaries.ffmpeg)).toBeNull();
    for (const format of ['mkv', 'webm', 'avi'] as const) {
      const clip = await makeVideo(dir, { format, seconds: 3, audio: true, name: `clip-${format}` });
      const result = await feedFile(clip, format);
      expect(result, format).toMatchObject({ complaints: [] });
      expect(result!.failure, format).toBeUndefined();
      expect(result!.frames, format).toBeGreaterThan(10);
    }
    expect((await feedFile(faststart, 'mp4'))!.frames).toBeGreaterThan(10);
  });

  it('reports a damaged head as the after-the-fact check does', async () => {
    const clip = await makeVideo(dir, { format: 'mkv', seconds: 3, name: 'to-damage' });
    const damaged = await makeGarbageAfterHeader(clip);
    const result = await feedFile(damaged, 'mkv');
    expect(result!.failure !== undefined || result!.complaints.length > 0 || (result!.frames ?? 0) < 2).toBe(true);
  });

  it('is abandoned (null) when told to', async () => {
    const clip = await makeVideo(dir, { format: 'webm', seconds: 3, name: 'abandoned' });
    const bytes = await fs.readFile(clip);
    const check = startEarlyHeadCheck(bytes.subarray(0, 4096), 'webm', clip, binaries.ffmpeg)!;
    check.grow(1024);
    check.abandon();
    expect(await check.result).toBeNull();
  });
});
