import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { eventsOfJob, seedVideo, SUBMIT, waitForStatus } from '../helpers/jobs';
import { ffprobeJson, makeVideo } from '../helpers/media';

let app: TestApp;
let user: TestUser;
let mediaDir: string;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  app = await startTestApp();
  user = await app.createUser({ name: 'maker', credits: 100 });
});
afterAll(async () => {
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

const OUTPUT = `query Out($id: ID!) {
  jobOutput(jobId: $id) {
    __typename
    ... on JobOutput {
      jobId
      files { kind stage url contentType sizeBytes }
      results
      transcode { format codec audioCodec width height durationSeconds hasAlpha sizeBytes file }
      audio { durationSeconds silenceThresholdDb minSilenceSeconds silences { start end } activity { start end } loudness { integratedLufs loudnessRangeLu truePeakDbfs } }
      scenes { threshold hashAlgorithm scenes { index start end score hash } }
      thumbnails { width poster { time file } thumbnails { time file } }
      probe { durationSeconds width height videoCodec audioCodec frameRate }
    }
    ... on Error { code detail }
  }
}`;

describe('a job on a short clip', () => {
  it('runs every stage with real ffmpeg, logs each step in order, and serves its outputs', async () => {
    const file = await makeVideo(mediaDir, { format: 'mp4', seconds: 2, audio: true, scenes: true, silenceGaps: true });
    const video = await seedVideo(app, user.id, file);
    const submitted = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, outputFormat: 'MP4', model: 'FAST' } });
    expect(submitted.body.data.submitJob.__typename).toBe('SubmitJobSuccess');
    const { id, costCredits } = submitted.body.data.submitJob.job;
    expect(costCredits).toBe(1); // 1 started minute × FAST
    const job = await waitForStatus(app, id, ['COMPLETED', 'FAILED', 'TIMED_OUT']);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');

    const events = await eventsOfJob(app, id);
    expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1));
    const types = events.filter((e) => e.type !== 'PROGRESS').map((e) => `${e.type}${e.stage ? `:${e.stage}` : ''}`);
    expect(types).toEqual([
      'QUEUED',
      'STARTED',
      'STAGE_STARTED:probe',
      'STAGE_COMPLETED:probe',
      'STAGE_STARTED:thumbnails',
      'STAGE_COMPLETED:thumbnails',
      'STAGE_STARTED:transcode',
      'STAGE_COMPLETED:transcode',
      'STAGE_STARTED:audio',
      'STAGE_COMPLETED:audio',
      'STAGE_STARTED:scenes',
      'STAGE_COMPLETED:scenes',
      'COMPLETED',
    ]);
    const progress = events.map((e) => e.progress);
    expect(progress.at(-1)).toBe(1);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const out = await gql(app.url, user.key, OUTPUT, { id });
    const output = out.body.data.jobOutput;
    expect(output.__typename).toBe('JobOutput');
    expect(Object.keys(output.results)).toEqual(['probe', 'thumbnails', 'transcode', 'audio', 'scenes']);
    // Typed results: the same values as the raw JSON of `results`.
    expect(output.transcode).toMatchObject({ format: 'MP4', codec: 'h264', audioCodec: 'aac', hasAlpha: false });
    expect(output.transcode).toEqual(output.results.transcode);
    expect(output.transcode.height).toBeLessThanOrEqual(480);
    expect(output.audio.silences.length).toBeGreaterThan(0);
    expect(output.audio.activity.length).toBeGreaterThan(0);
    expect(output.audio).toEqual(output.results.audio);
    expect(output.scenes.scenes[0]).toMatchObject({ index: 0, start: 0, score: null, hash: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(output.scenes.scenes.length).toBe(output.results.scenes.scenes.length);
    expect(output.thumbnails.poster.file).toBe(output.results.thumbnails.poster.file);
    expect(output.probe).toMatchObject({ width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    const kinds = output.files.map((f: { kind: string }) => f.kind);
    expect(kinds).toContain('video');
    expect(kinds).toContain('poster');
    expect(kinds).toContain('thumbnail');

    const videoFile = output.files.find((f: { kind: string }) => f.kind === 'video');
    const download = await fetch(videoFile.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('video/mp4');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(videoFile.sizeBytes);
    const saved = path.join(mediaDir, 'downloaded.mp4');
    await fs.writeFile(saved, bytes);
    const probe = await ffprobeJson(saved);
    expect(probe.streams.some((s: { codec_name?: string }) => s.codec_name === 'h264')).toBe(true);

    const tampered = new URL(videoFile.url);
    const signature = tampered.searchParams.get('signature')!;
    // One character changed, to one it certainly was not (an 'x' over an 'x' would change nothing).
    tampered.searchParams.set('signature', (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    expect((await fetch(tampered)).status).toBe(403);

    const ledger = await app.services.database.sql`select kind, amount from credit_ledger where job_id = ${id} order by id`;
    expect(ledger.map((r) => [r.kind, r.amount])).toEqual([
      ['RESERVE', -1],
      ['CHARGE', 0],
    ]);
    const viewer = await gql(app.url, user.key, '{ viewer { credits } }');
    expect(viewer.body.data.viewer.credits).toBe(99);
  });

  it('transcodes to WEBM with VP9 and Opus', async () => {
    const file = await makeVideo(mediaDir, { format: 'mkv', seconds: 1, audio: true, name: 'webm-src' });
    const video = await seedVideo(app, user.id, file);
    const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, outputFormat: 'WEBM', model: 'FAST' } });
    const job = await waitForStatus(app, res.body.data.submitJob.job.id, ['COMPLETED', 'FAILED']);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
    const out = await gql(app.url, user.key, OUTPUT, { id: job.id });
    expect(out.body.errors).toBeUndefined();
    expect(out.body.data.jobOutput.transcode).toMatchObject({ format: 'WEBM', codec: 'vp9', audioCodec: 'opus' });
  });

  it('keys out a green background into a WEBM that keeps its alpha channel', async () => {
    const file = await makeVideo(mediaDir, { format: 'mp4', seconds: 1, greenScreen: true, name: 'green' });
    const video = await seedVideo(app, user.id, file);
    const res = await gql(app.url, user.key, SUBMIT, {
      input: { videoId: video.id, outputFormat: 'WEBM', model: 'FAST', background: { color: '#00ff00', similarity: 0.3 } },
    });
    const job = await waitForStatus(app, res.body.data.submitJob.job.id, ['COMPLETED', 'FAILED']);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');
    const out = await gql(app.url, user.key, OUTPUT, { id: job.id });
    expect(out.body.data.jobOutput.transcode.hasAlpha).toBe(true);
    const videoFile = out.body.data.jobOutput.files.find((f: { kind: string }) => f.kind === 'video');
    const saved = path.join(mediaDir, 'alpha.webm');
    await fs.writeFile(saved, Buffer.from(await (await fetch(videoFile.url)).arrayBuffer()));
    const probe = await ffprobeJson(saved);
    // VP9 alpha lives beside the colour planes: ffprobe shows it as the alpha_mode tag.
    expect(probe.streams.find((s: { codec_type?: string }) => s.codec_type === 'video')?.tags?.['alpha_mode' as never]).toBe('1');
  });
});
