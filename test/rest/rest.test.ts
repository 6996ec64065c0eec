// The seeds' REST paths: seed 003's envelope with its exact texts and the catalog's HTTP statuses, on
// the same keys and rules as GraphQL; the upload streamed like uploadVideo; the OpenAPI document
// matching the routes.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REST_PATHS } from '../../src/rest/openapi';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';

const PIPELINES_FILE = path.resolve(import.meta.dirname, '../pipeline/fixtures/stages/pipelines.json');
let app: TestApp;
let user: TestUser;
let poor: TestUser;
let dir: string;
let clip: string;

async function call(method: string, route: string, opts: { key?: string | null; json?: unknown; form?: FormData } = {}) {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? user.key : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) body = opts.form;
  const res = await fetch(`${app.url}${route}`, { method, headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function form(file: string, fields: Array<[string, string]> = [], fileFirst = false, name = path.basename(file)) {
  const data = new FormData();
  const bytes = await fs.readFile(file);
  const addFile = () => data.append('video', new Blob([new Uint8Array(bytes)]), name);
  if (fileFirst) addFile();
  for (const [k, v] of fields) data.append(k, v);
  if (!fileFirst) addFile();
  return data;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-rest-'));
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails', MAX_FILE_SIZE_MB: '2', PIPELINES_FILE } });
  user = await app.createUser({ credits: 1000 });
  poor = await app.createUser({ credits: 0 });
  clip = await makeVideo(dir, { format: 'mp4', seconds: 2, name: 'clip' });
});
afterAll(async () => {
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('REST envelope', () => {
  it('answers a missing key 401 UNAUTHENTICATED and a bad key 401 INVALID_API_KEY', async () => {
    expect(await call('GET', '/api/v1/jobs/job_xyz999', { key: null })).toMatchObject({
      status: 401,
      body: { success: false, message: 'An API key is required.', error: { code: 'UNAUTHENTICATED', detail: expect.any(String) } },
    });
    expect(await call('GET', '/api/v1/jobs/job_xyz999', { key: 'vq_not_a_key' })).toMatchObject({
      status: 401,
      body: { success: false, message: 'The API key is invalid, revoked or disabled.', error: { code: 'INVALID_API_KEY' } },
    });
  });

  it("answers unknown ids with seed 003's exact texts", async () => {
    expect(await call('GET', '/api/v1/videos/vid_xyz999')).toEqual({
      status: 404,
      headers: expect.anything(),
      body: {
        success: false,
        message: 'The specified video could not be found.',
        error: { detail: "No video with id 'vid_xyz999' exists.", code: 'VIDEO_NOT_FOUND' },
      },
    });
    expect((await call('GET', '/api/v1/jobs/job_xyz999')).body).toEqual({
      success: false,
      message: 'The specified job could not be found.',
      error: { detail: "No job with id 'job_xyz999' exists.", code: 'JOB_NOT_FOUND' },
    });
    expect((await call('GET', '/api/v1/nothing')).status).toBe(404);
  });
});

describe('POST /api/v1/videos', () => {
  it('stores an upload (201) with snake_case fields, title before or after the file', async () => {
    const first = await call('POST', '/api/v1/videos', { form: await form(clip, [['title', 'Before']]) });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      success: true,
      data: { id: expect.stringMatching(/^vid_/), title: 'Before', format: 'mp4', size_bytes: (await fs.stat(clip)).size },
    });
    expect(first.body.data.metadata).toMatchObject({ duration_seconds: 2, video_codec: 'h264' });
    const after = await call('POST', '/api/v1/videos', { form: await form(clip, [['title', 'After the file']], true) });
    expect(after.body.data.title).toBe('After the file');
    expect((await call('GET', `/api/v1/videos/${after.body.data.id}`)).body.data.title).toBe('After the file');

    // A title refused after the file refuses the upload, and keeps nothing.
    const before = (await app.services.database.sql`select count(*)::int as n from videos`)[0].n;
    const tooLong = await call('POST', '/api/v1/videos', { form: await form(clip, [['title', 'x'.repeat(201)]], true) });
    expect(tooLong).toMatchObject({
      status: 400,
      body: { success: false, error: { code: 'INVALID_INPUT', field_errors: [{ path: expect.arrayContaining(['title']) }] } },
    });
    expect((await app.services.database.sql`select count(*)::int as n from videos`)[0].n).toBe(before);
  });

  it('answers 413 to a JSON body over 64 KB, and 400 to one that is not JSON', async () => {
    expect(await call('POST', '/api/v1/jobs', { json: { video_id: 'vid_x', padding: 'x'.repeat(70 * 1024) } })).toMatchObject({
      status: 413,
      body: { success: false, error: { code: 'INVALID_INPUT' } },
    });
    const res = await fetch(`${app.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
  });

  it("refuses a bad format (415) and a file over MAX_FILE_SIZE_MB (413) with seed 003's texts", async () => {
    const flv = path.join(dir, 'talk.flv');
    await fs.copyFile(clip, flv);
    expect(await call('POST', '/api/v1/videos', { form: await form(flv) })).toMatchObject({
      status: 415,
      body: {
        success: false,
        message: 'The uploaded file format is not supported.',
        error: { detail: 'Received file with extension .flv. Supported formats: mp4, mov, avi, mkv, webm.', code: 'UNSUPPORTED_FORMAT' },
      },
    });
    const big = path.join(dir, 'big.mp4');
    await fs.writeFile(big, Buffer.concat([await fs.readFile(clip), randomBytes(3 * 1024 * 1024)])); // an MP4's first bytes, too many of them
    const tooLarge = await call('POST', '/api/v1/videos', { form: await form(big) });
    expect(tooLarge).toMatchObject({
      status: 413,
      body: { success: false, message: 'Uploaded file exceeds the maximum allowed size.', error: { code: 'FILE_TOO_LARGE' } },
    });
    expect(tooLarge.body.error.detail).toMatch(/Maximum allowed is 2 MB\.$/);
    const noFile = new FormData();
    noFile.append('title', 'nothing');
    expect(await call('POST', '/api/v1/videos', { form: noFile })).toMatchObject({ status: 400, body: { success: false, error: { code: 'INVALID_INPUT' } } });
  });
});

describe('jobs', () => {
  it('POST /api/v1/jobs queues (202); a second is 409; the result is 409 until done, then 200', async () => {
    const video = (await call('POST', '/api/v1/videos', { form: await form(clip) })).body.data;
    const submitted = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, model: 'fast', output_format: 'mp4' } });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({
      success: true,
      data: { id: expect.stringMatching(/^job_/), status: 'QUEUED', pipeline: 'default', options: { model: 'FAST', output_format: 'MP4' } },
    });
    const jobId = submitted.body.data.id as string;

    const again = await call('POST', '/api/v1/jobs', { json: { video_id: video.id } });
    expect(again).toMatchObject({
      status: 409,
      body: {
        success: false,
        message: 'A job for this video is already in progress.',
        error: { detail: `Job '${jobId}' is currently processing video '${video.id}'.`, code: 'JOB_ALREADY_PROCESSING' },
      },
    });
    const early = await call('GET', `/api/v1/jobs/${jobId}/result`);
    if (early.status === 409) {
      expect(early.body).toMatchObject({ success: false, message: 'The job has not finished processing.', error: { code: 'JOB_NOT_COMPLETE' } });
      expect(early.body.error.detail).toMatch(new RegExp(`^Job '${jobId}' is currently in status '(queued|processing)'\\.$`));
    }
    await waitForStatus(app, jobId, ['COMPLETED']);
    const job = await call('GET', `/api/v1/jobs/${jobId}`);
    expect(job.body.data).toMatchObject({ id: jobId, status: 'COMPLETED', progress: 1, cost_credits: expect.any(Number), next_step: expect.any(String) });
    const result = await call('GET', `/api/v1/jobs/${jobId}/result`);
    expect(result.status).toBe(200);
    expect(result.body.data).toMatchObject({ job_id: jobId, results: { probe: expect.objectContaining({ durationSeconds: 2 }) } }); // results keep the stages' own keys
    expect(result.body.data.files.length).toBeGreaterThan(0);
    expect((await fetch(result.body.data.files[0].url)).status).toBe(200);
  });

  it('maps a timed-out job (504), missing credits (402) and invalid input (400) to their statuses', async () => {
    const video = (await call('POST', '/api/v1/videos', { form: await form(clip) })).body.data;
    const hung = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, pipeline: 'hangs', timeout_seconds: 1 } });
    await waitForStatus(app, hung.body.data.id, ['TIMED_OUT'], 30_000);
    const timedOut = await call('GET', `/api/v1/jobs/${hung.body.data.id}/result`);
    expect(timedOut).toMatchObject({
      status: 504,
      body: { success: false, message: 'The job exceeded the maximum processing time and was terminated.', error: { code: 'JOB_TIMEOUT' } },
    });
    expect(timedOut.body.error.detail).toMatch(/^Job ran for \d+ seconds, exceeding the limit of 1 seconds\.$/);

    const poorVideo = (await call('POST', '/api/v1/videos', { key: poor.key, form: await form(clip) })).body.data;
    expect(await call('POST', '/api/v1/jobs', { key: poor.key, json: { video_id: poorVideo.id } })).toMatchObject({
      status: 402,
      body: { error: { code: 'INSUFFICIENT_CREDITS' } },
    });
    const invalid = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, pipeline: 'nope' } });
    expect(invalid).toMatchObject({ status: 400, body: { success: false, error: { code: 'INVALID_INPUT', field_errors: [{ path: ['input', 'pipeline'] }] } } });
    expect(await call('POST', '/api/v1/jobs', { json: [1, 2] })).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
  });

  it('GET /api/pricing gives the prices and the runtime configuration', async () => {
    const pricing = await call('GET', '/api/pricing');
    expect(pricing.status).toBe(200);
    expect(pricing.body.data.models).toContainEqual({ model: 'FAST', credits_per_started_minute: 1 });
    expect(pricing.body.data.config).toMatchObject({ max_file_size_mb: 2, storage_driver: 'local', pipelines: expect.arrayContaining(['default', 'hls']) });
  });
});

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document whose every path and method is served', async () => {
    const doc = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(REST_PATHS).sort());
    for (const [template, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const route = template.replace('{job_id}', 'job_xyz999').replace('{video_id}', 'vid_xyz999');
        const answer = await call(method.toUpperCase(), route, { key: null });
        // Served (not the router's 404) and answering a status the document lists.
        expect(answer.body.error?.code, `${method} ${template}`).not.toBe('NOT_FOUND');
        expect(Object.keys(operation.responses), `${method} ${template}`).toContain(String(answer.status));
      }
    }
  });
});
