// The built-in `hls` pipeline: a ladder of renditions up to the source's height, every file an
// OutputFile of kind hls, a master playlist that ffprobe reads over HTTP through its directory-signed
// URL (its relative URIs reach the renditions and segments), and signatures that cover only hls/.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ladderFor } from '../../src/pipeline/stages/hls';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { startBrowser } from '../helpers/browser';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';

const run = promisify(execFile);
let app: TestApp;
let user: TestUser;
let dir: string;
let masterPlaylistUrl: string | undefined;

const OUTPUT = `query($id: ID!) { jobOutput(jobId: $id) { __typename ... on JobOutput {
  hls { masterPlaylist masterPlaylistUrl segmentSeconds segments renditions { name width height videoKbps audioKbps playlist } }
  files { kind stage url contentType sizeBytes }
} ... on Error { code message } } }`;

beforeAll(async () => {
  app = await startTestApp();
  user = await app.createUser({ credits: 1000 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-hls-'));
});
afterAll(async () => {
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the hls ladder', () => {
  it('never goes above the source, and keeps one rendition for a small one', () => {
    expect(ladderFor({ width: 1920, height: 1080 }).map((r) => `${r.width}x${r.height}`)).toEqual(['426x240', '640x360', '854x480', '1280x720', '1920x1080']);
    expect(ladderFor({ width: 1280, height: 720 }).map((r) => r.name)).toEqual(['240p', '360p', '480p', '720p']);
    expect(ladderFor({ width: 3840, height: 2160 }).at(-1)!.name).toBe('1080p');
    expect(ladderFor({ width: 320, height: 180 })).toEqual([expect.objectContaining({ name: '180p', width: 320, height: 180 })]);
  });

  it('runs as pipeline hls: playlists and segments as files, a master playlist ffprobe plays over HTTP', async () => {
    const clip = await makeVideo(dir, { format: 'mp4', seconds: 9, audio: true, width: 854, height: 480, name: 'source' });
    const video = await seedVideo(app, user.id, clip);
    const submitted = await gql(
      app.url,
      user.key,
      'mutation($input: SubmitJobInput!) { submitJob(input: $input) { ... on SubmitJobSuccess { job { id stages { name } } } } }',
      {
        input: { videoId: video.id, pipeline: 'hls' },
      },
    );
    const job = submitted.body.data.submitJob.job;
    expect(job.stages.map((s: { name: string }) => s.name)).toEqual(['probe', 'thumbnails', 'hls']);
    const done = await waitForStatus(app, job.id, ['COMPLETED', 'FAILED']);
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');

    const output = (await gql(app.url, user.key, OUTPUT, { id: job.id })).body.data.jobOutput;
    const { hls } = output;
    expect(hls.renditions.map((r: { name: string }) => r.name)).toEqual(['240p', '360p', '480p']);
    expect(hls.renditions[2]).toMatchObject({ width: 854, height: 480, audioKbps: 128, playlist: 'hls/480p/index.m3u8' });
    expect(hls.segmentSeconds).toBe(4);
    const hlsFiles = output.files.filter((f: { stage: string }) => f.stage === 'hls');
    expect(hlsFiles.every((f: { kind: string }) => f.kind === 'hls')).toBe(true);
    expect(hlsFiles).toHaveLength(1 + 3 * 2 + hls.segments); // master; per rendition a playlist and an init segment; media segments
    expect(hls.segments).toBeGreaterThanOrEqual(6); // ~9 s in ~4 s segments, three renditions
    expect(hlsFiles.filter((f: { contentType: string }) => f.contentType === 'video/iso.segment')).toHaveLength(hls.segments);

    masterPlaylistUrl = hls.masterPlaylistUrl;
    const master = await (await fetch(hls.masterPlaylistUrl)).text();
    expect(master.match(/#EXT-X-STREAM-INF/g)).toHaveLength(3);
    expect(master).toContain('480p/index.m3u8'); // relative: resolved against the master's signed URL

    // ffprobe reads the ladder over HTTP through the master playlist alone.
    const { stdout } = await run(binaries.ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_name,height', '-of', 'json', hls.masterPlaylistUrl], {
      timeout: 30_000,
    });
    const streams = (JSON.parse(stdout).streams as Array<{ codec_name: string; height?: number }>).map(
      (s) => `${s.codec_name}${s.height ? `@${s.height}` : ''}`,
    );
    expect(new Set(streams)).toEqual(new Set(['h264@240', 'h264@360', 'h264@480', 'aac']));

    // The directory signature covers hls/ only, and only untampered.
    const base = hls.masterPlaylistUrl.slice(0, hls.masterPlaylistUrl.indexOf('/hls/'));
    expect((await fetch(`${base}/hls/240p/index.m3u8`)).status).toBe(200);
    expect((await fetch(`${base}/thumbnails/poster.jpg`)).status).toBe(403);
    expect((await fetch(hls.masterPlaylistUrl.replace(/(~\d+\.)(.)/, (_: string, at: string, c: string) => at + (c === 'A' ? 'B' : 'A')))).status).toBe(403);

    const progress = (await eventsOfJob(app, job.id)).filter((e) => e.type === 'PROGRESS' && e.stage === 'hls');
    expect(progress.length).toBeGreaterThan(0);
  });

  it('plays in a browser: a <video> of another origin given only the master playlist URL', async () => {
    expect(masterPlaylistUrl, 'the pipeline test ran first').toBeDefined();
    const pageServer = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>player</title><body></body>'),
    );
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    const pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    const browser = await startBrowser();
    try {
      const guarded = await browser.openPage(pageOrigin, { alsoAllow: [app.url] });
      await guarded.page.goto(`${pageOrigin}/`);
      const played = await guarded.page.evaluate(async (src) => {
        const video = document.createElement('video');
        video.muted = true;
        video.src = src;
        document.body.append(video);
        await video.play();
        // Past the first segment: the player fetched the next one through a relative URI.
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`stuck at ${video.currentTime} s`)), 20_000);
          video.ontimeupdate = () => video.currentTime > 4.5 && (clearTimeout(timer), resolve());
          video.onerror = () => reject(new Error(`video error ${video.error?.code}: ${video.error?.message}`));
        });
        return { currentTime: video.currentTime, width: video.videoWidth };
      }, masterPlaylistUrl!);
      expect(played.currentTime).toBeGreaterThan(4.5);
      expect(played.width).toBeGreaterThan(0);
      expect(guarded.pageErrors).toEqual([]);
      expect(guarded.offOriginRequests).toEqual([]);
      await guarded.close();
    } finally {
      await browser.close();
      await new Promise((resolve) => pageServer.close(resolve));
    }
  });
});
