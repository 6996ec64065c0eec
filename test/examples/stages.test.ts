// examples/stages: the two example external stages (a shell script around ffmpeg, a Node script) run
// through vidq with their own pipelines.json, as the README shows.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, waitForStatus } from '../helpers/jobs';
import { binaries, makeVideo } from '../helpers/media';

const run = promisify(execFile);
const PIPELINES_FILE = path.resolve(import.meta.dirname, '../../examples/stages/pipelines.json');
let app: TestApp;
let user: TestUser;
let dir: string;

const OUTPUT = `query($id: ID!) { jobOutput(jobId: $id) { __typename ... on JobOutput { results files { kind stage url contentType sizeBytes } } ... on Error { code message } } }`;

async function runPipeline(pipeline: string, clip: string, stageOptions?: Record<string, unknown>) {
  const video = await seedVideo(app, user.id, clip);
  const res = await gql(
    app.url,
    user.key,
    'mutation($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on SubmitJobSuccess { job { id } } ... on Error { code message } } }',
    {
      input: { videoId: video.id, pipeline, stageOptions },
    },
  );
  const jobId = res.body.data.submitJob.job.id as string;
  const done = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED']);
  return { done, output: done.status === 'COMPLETED' ? (await gql(app.url, user.key, OUTPUT, { id: jobId })).body.data.jobOutput : null };
}

beforeAll(async () => {
  app = await startTestApp({ env: { PIPELINES_FILE } });
  user = await app.createUser({ credits: 1000 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-example-stages-'));
});
afterAll(async () => {
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('examples/stages', () => {
  it('loudnorm.sh (pipeline podcast) writes loudness-normalised audio near the target', async () => {
    const clip = await makeVideo(dir, { format: 'mp4', seconds: 4, audio: true, name: 'talk' });
    const { done, output } = await runPipeline('podcast', clip, { loudnorm: { targetLufs: -20 } });
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    expect(output.results.loudnorm).toMatchObject({ targetLufs: -20, truePeakDb: -1.5, file: 'normalized.m4a' });
    const [audio] = output.files.filter((f: { stage: string }) => f.stage === 'loudnorm');
    expect(audio).toMatchObject({ kind: 'loudnorm', contentType: 'audio/mp4' });
    const saved = path.join(dir, 'normalized.m4a');
    await fs.writeFile(saved, Buffer.from(await (await fetch(audio.url)).arrayBuffer()));
    const { stdout } = await run(binaries.ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_name,sample_rate', '-of', 'json', saved]);
    expect(JSON.parse(stdout).streams).toEqual([{ codec_name: 'aac', sample_rate: '48000' }]);
    // Loudness values are JSON numbers, like targetLufs (they were strings: "-21.8").
    expect(output.results.loudnorm).toMatchObject({ inputLufs: expect.any(Number), outputLufs: expect.any(Number) });
    expect(Math.abs(output.results.loudnorm.outputLufs - -20)).toBeLessThan(2);
  });

  it('loudnorm.sh fails a video without audio as VIDEO_CORRUPT (exit 65), saying why', async () => {
    const silent = await makeVideo(dir, { format: 'mp4', seconds: 1, audio: false, name: 'silent' });
    const { done } = await runPipeline('podcast', silent);
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatchObject({ code: 'VIDEO_CORRUPT', stage: 'loudnorm', retryable: false });
    expect(done.error!.detail).toContain('no audio stream to normalise');
  });

  it('fingerprint.mjs (pipeline catalog) hashes the source in blocks', async () => {
    const clip = await makeVideo(dir, { format: 'mp4', seconds: 2, name: 'catalogued' });
    const { done, output } = await runPipeline('catalog', clip, { fingerprint: { blockMb: 1 } });
    expect(done.status, JSON.stringify(done.error)).toBe('COMPLETED');
    const bytes = await fs.readFile(clip);
    expect(output.results.fingerprint).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      sizeBytes: bytes.length,
      blockMb: 1,
      blocks: Math.ceil(bytes.length / (1024 * 1024)),
    });
    const blocks = output.files.find((f: { stage: string }) => f.stage === 'fingerprint');
    expect((await (await fetch(blocks.url)).text()).trim().split('\n')).toHaveLength(output.results.fingerprint.blocks);
  });
});
