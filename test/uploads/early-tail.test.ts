// The tail check while the last of an upload arrives (src/uploads/early-tail.ts): an MP4 whose moov
// comes first, fed to a temp file as an upload writes it, and what becomes of a cut file, a pause and
// an abandoned upload. A null result means "decode the tail after the last byte", as before.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAndVerify } from '../../src/pipeline/probe';
import { startEarlyTailCheck } from '../../src/uploads/early-tail';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { binaries, ffmpeg } from '../helpers/media';
import { multipartFrame, snapshot } from '../helpers/upload';

let dir: string;
let clip: Buffer; // 8 s of noisy 640x360 H.264 at 12 Mbit/s, moov first, a keyframe every 2 s: ~12 MB
let moovLast: Buffer;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-early-tail-'));
  const source = ['-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25,noise=alls=30:allf=t', '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast'];
  const rate = ['-b:v', '12M', '-minrate', '12M', '-maxrate', '12M', '-bufsize', '12M', '-g', '50', '-pix_fmt', 'yuv420p'];
  await ffmpeg([...source, ...rate, '-movflags', '+faststart', path.join(dir, 'first.mp4')]);
  await ffmpeg(['-i', path.join(dir, 'first.mp4'), '-c', 'copy', path.join(dir, 'last.mp4')]);
  clip = await fs.readFile(path.join(dir, 'first.mp4'));
  moovLast = await fs.readFile(path.join(dir, 'last.mp4'));
}, 120_000);
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes `bytes` to a new temp file in 256 KB chunks at about `mbPerSecond`, telling the check as it
 * grows (pausing `pauseMs` once, after 90% of the file), then ends it; resolves with the check's result.
 */
async function feed(bytes: Buffer, opts: { expectedBytes?: number; mbPerSecond?: number; pauseMs?: number; stallSeconds?: number } = {}) {
  const temp = path.join(dir, `arriving-${Math.random().toString(36).slice(2)}.mp4`);
  const check = startEarlyTailCheck(bytes.subarray(0, 4096), 'mp4', temp, binaries.ffmpeg, opts.expectedBytes ?? bytes.length, opts.stallSeconds);
  if (!check) return { check, result: null };
  const out = await fs.open(temp, 'w');
  const chunk = 256 * 1024;
  const msPerChunk = (chunk / ((opts.mbPerSecond ?? 40) * 1024 * 1024)) * 1000;
  for (let at = 0; at < bytes.length; at += chunk) {
    await out.write(bytes.subarray(at, at + chunk), 0, Math.min(chunk, bytes.length - at), at);
    check.grow(Math.min(at + chunk, bytes.length));
    if (opts.pauseMs && at < bytes.length * 0.9 && at + chunk >= bytes.length * 0.9) await sleep(opts.pauseMs);
    await sleep(msPerChunk);
  }
  await out.close();
  check.end();
  return { check, result: await check.result, temp };
}

/** ffmpeg processes whose arguments name `file`. */
const ffmpegsOn = (file: string) => {
  try {
    return execFileSync('pgrep', ['-f', file]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

describe('the early tail check', () => {
  it('decodes the last GOP of a steady upload while it arrives, cleanly', async () => {
    expect(clip.length).toBeGreaterThan(8 * 1024 * 1024);
    const { result } = await feed(clip);
    expect(result).not.toBeNull(); // it ran, and to a verdict
    expect(result!.failure).toBeUndefined();
    expect(result!.complaints).toEqual([]);
    expect(result!.frames).toBeGreaterThanOrEqual(20); // from the keyframe at 6 s: about 50 frames
  });

  it('gives its verdict to probeAndVerify, which then decodes only the head', async () => {
    const { check, temp } = await feed(clip);
    const metadata = await probeAndVerify(temp!, { ...binaries, durationInHeader: true, tail: check!.result });
    expect(metadata.durationSeconds).toBeCloseTo(8, 0);
  });

  it('is inconclusive (null) for a cut file, whose moov lists more than arrives, and the check after the last byte refuses it', async () => {
    const cut = clip.subarray(0, Math.floor(clip.length * 0.97));
    // ffmpeg would wait an hour for the missing bytes: the check sees the cut when the upload ends.
    const { check, result, temp } = await feed(cut, { stallSeconds: 3600 });
    expect(result).toBeNull();
    await expect(probeAndVerify(temp!, { ...binaries, durationInHeader: true, tail: check!.result })).rejects.toMatchObject({ code: 'VIDEO_CORRUPT' });
  });

  it('is inconclusive (null) when the upload pauses for longer than it waits', async () => {
    const { result } = await feed(clip, { expectedBytes: clip.length, mbPerSecond: 40, pauseMs: 1500, stallSeconds: 0.5 });
    // Started before the pause (at 40 MB/s the file takes 0.3 s, less than the lead: it starts once
    // the rate is known, after 0.2 s), it gave up during it.
    expect(result).toBeNull();
  });

  it('is abandoned (null), leaving no ffmpeg, when the upload fails', async () => {
    const temp = path.join(dir, 'abandoned.mp4');
    const check = startEarlyTailCheck(clip.subarray(0, 4096), 'mp4', temp, binaries.ffmpeg, clip.length)!;
    await fs.writeFile(temp, clip.subarray(0, 4 * 1024 * 1024));
    check.grow(1024 * 1024);
    await sleep(250);
    check.grow(4 * 1024 * 1024); // at this rate the end is less than a second away: it starts, and waits for the rest
    await expect.poll(() => ffmpegsOn(temp).length, { timeout: 10_000 }).toBe(1);
    check.abandon();
    expect(await check.result).toBeNull();
    expect(ffmpegsOn(temp)).toEqual([]);
  });

  it('does not run for an MP4 whose moov is at the end, a small file, or one of unknown size', () => {
    const head = clip.subarray(0, 4096);
    const temp = path.join(dir, 'never.mp4');
    expect(startEarlyTailCheck(moovLast.subarray(0, 4096), 'mp4', temp, binaries.ffmpeg, moovLast.length)).toBeNull();
    expect(startEarlyTailCheck(head, 'mp4', temp, binaries.ffmpeg, 2 * 1024 * 1024)).toBeNull();
    expect(startEarlyTailCheck(head, 'mp4', temp, binaries.ffmpeg, null)).toBeNull();
    expect(startEarlyTailCheck(head, 'mkv', temp, binaries.ffmpeg, clip.length)).toBeNull();
  });
});

describe('the early tail through uploadVideo', () => {
  let app: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    app = await startTestApp();
    user = await app.createUser();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** uploadVideo with `bytes` sent at about 20 MB/s (an early tail needs a rate and a declared length). */
  async function slowUpload(bytes: Buffer) {
    const boundary = 'vidqEarlyTailBoundary';
    const { before, after } = multipartFrame(boundary, { filename: 'clip.mp4' });
    const req = http.request(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(before.length + bytes.length + after.length),
        authorization: `Bearer ${user.key}`,
      },
    });
    const response = new Promise<any>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      });
    });
    req.write(before);
    const chunk = 256 * 1024;
    for (let at = 0; at < bytes.length; at += chunk) {
      if (!req.write(bytes.subarray(at, at + chunk))) await once(req, 'drain');
      await sleep(12);
    }
    req.end(after);
    return (await response).data.uploadVideo;
  }

  it('accepts a moov-first MP4, refuses a cut one, and leaves no ffmpeg and nothing of the refused one behind', async () => {
    const accepted = await slowUpload(clip);
    expect(accepted.__typename, JSON.stringify(accepted)).toBe('UploadVideoSuccess');
    expect(accepted.video.sizeBytes).toBe(clip.length);

    const before = await snapshot(app);
    const refused = await slowUpload(clip.subarray(0, Math.floor(clip.length * 0.97)));
    expect(refused).toMatchObject({ __typename: 'VideoCorruptError', code: 'VIDEO_CORRUPT' });
    expect(await snapshot(app)).toEqual(before);
    expect(ffmpegsOn(app.dataDir)).toEqual([]);
  });
});
