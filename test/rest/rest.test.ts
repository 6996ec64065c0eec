// The seeds' REST paths: seed 003's envelope with its exact texts and the catalog's HTTP statuses, on
// the same keys and rules as GraphQL; the upload streamed like uploadVideo; the OpenAPI document
// matching the routes.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/errors/catalog';
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

/** Every status a REST path answered in this file, by "METHOD /template": the OpenAPI document must list each. */
const answered = new Map<string, Set<number>>();

function templateOf(route: string): string {
  const [path] = route.split('?');
  return Object.keys(REST_PATHS).find((t) => new RegExp(`^${t.replace(/\{[a-z_]+\}/g, '[^/]+')}$`).test(path)) ?? path;
}

async function call(method: string, route: string, opts: { key?: string | null; json?: unknown; raw?: string; form?: FormData } = {}) {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? user.key : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined || opts.raw !== undefined) {
    headers['content-type'] = 'application/json';
    body = opts.raw ?? JSON.stringify(opts.json);
  } else if (opts.form) body = opts.form;
  const res = await fetch(`${app.url}${route}`, { method, headers, body });
  const where = `${method.toLowerCase()} ${templateOf(route)}`;
  answered.set(where, (answered.get(where) ?? new Set()).add(res.status));
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

const INVALID = { success: false, message: 'The request is invalid.' };

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
  it('keeps an unexpected failure a masked 500 INTERNAL_ERROR quoting the request id', async () => {
    // Break the database under the running server (no job runs yet): every query on videos fails.
    await app.services.database.sql`alter table videos rename to videos_gone`;
    let broken;
    try {
      broken = await call('GET', '/api/v1/videos/vid_xyz999');
    } finally {
      await app.services.database.sql`alter table videos_gone rename to videos`;
    }
    const requestId = broken.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_/);
    expect(broken).toMatchObject({
      status: 500,
      body: {
        success: false,
        message: 'An unexpected error occurred.',
        error: { code: 'INTERNAL_ERROR', detail: `Unexpected error. Quote request id ${requestId} when reporting it.` },
      },
    });
    expect(JSON.stringify(broken.body)).not.toMatch(/relation|videos_gone|select/i);
    expect((await call('GET', '/api/v1/videos/vid_xyz999')).status).toBe(404);
  });

  it('answers a missing key 401 UNAUTHENTICATED and a bad key 401 INVALID_API_KEY', async () => {
    expect(await call('GET', '/api/v1/jobs/job_xyz999', { key: null })).toMatchObject({
      status: 401,
      body: {
        success: false,
        message: 'An API key is required.',
        error: { code: 'UNAUTHENTICATED', detail: 'Send the key as "Authorization: Bearer vq_…" (HTTP) or in connectionParams.authorization (WebSocket).' },
      },
    });
    expect(await call('GET', '/api/v1/jobs/job_xyz999', { key: 'vq_not_a_key' })).toMatchObject({
      status: 401,
      body: {
        success: false,
        message: 'The API key is invalid, revoked or disabled.',
        error: { code: 'INVALID_API_KEY', detail: 'Wrong key or key disabled: create a new key and check which key your environment uses.' },
      },
    });
  });

  it('answers a NUL in a path id 400 INVALID_INPUT, not as a fault of the service', async () => {
    for (const route of ['/api/v1/jobs/job_%00', '/api/v1/jobs/job_%00/result', '/api/v1/videos/vid_%00']) {
      expect(await call('GET', route), route).toMatchObject({ status: 400, body: { ...INVALID, error: { code: 'INVALID_INPUT' } } });
    }
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
  it('answers an upload without a valid key 401 before reading the file, and names the file part a form got wrong', async () => {
    for (const [key, code] of [
      [null, 'UNAUTHENTICATED'],
      ['vq_not_a_key', 'INVALID_API_KEY'],
    ] as const) {
      expect(await call('POST', '/api/v1/videos', { key, form: await form(clip, [['title', 'No key']]) }), String(key)).toMatchObject({
        status: 401,
        body: { success: false, error: { code } },
      });
    }
    const misnamed = new FormData();
    misnamed.append('file', new Blob([new Uint8Array(await fs.readFile(clip))]), 'clip.mp4');
    expect(await call('POST', '/api/v1/videos', { form: misnamed })).toMatchObject({
      status: 400,
      body: { ...INVALID, error: { code: 'INVALID_INPUT', detail: 'Malformed multipart request: The file must be sent in the part ‘video’, not ‘file’.' } },
    });
  });

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
    expect(timedOut.body.error.detail).toMatch(/^Job ran for \d+ seconds?, exceeding the limit of 1 second\.$/);

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

describe('POST /api/v1/jobs input', () => {
  it('answers each wrong field 400 INVALID_INPUT, naming it as the client wrote it and what it may be', async () => {
    const video = (await call('POST', '/api/v1/videos', { form: await form(clip) })).body.data;
    const cases: Array<[Record<string, unknown>, string[], RegExp]> = [
      [{ model: 'fast' }, ['video_id'], /^input\.video_id: is required: the id of one of your videos/],
      [{ video_id: video.id, model: 'turbo' }, ['model'], /^input\.model: must be one of FAST, ORIGINAL, PRO \(any case\); got "turbo"$/],
      [{ video_id: video.id, output_format: 'avi' }, ['output_format'], /^input\.output_format: must be one of MP4, WEBM \(any case\); got "avi"$/],
      [
        { video_id: video.id, timeout_seconds: 'x' },
        ['timeout_seconds'],
        /^input\.timeout_seconds: must be a whole number of seconds between 1 and 3600 .*; got "x"$/,
      ],
      [{ video_id: video.id, timeout_seconds: 2 ** 40 }, ['timeout_seconds'], /^input\.timeout_seconds: must be a whole number of seconds between 1 and 3600/],
      [{ video_id: 42 }, ['video_id'], /^input\.video_id: must be the id of one of your videos.*; got 42$/],
      [
        { video_id: video.id, background: 'green' },
        ['background'],
        /^input\.background: must be an object with the fields remove, color, similarity, replace_with; got "green"$/,
      ],
      [
        { video_id: video.id, background: { replace_with: 7 } },
        ['background', 'replace_with'],
        /^input\.background\.replace_with: must be a hex colour such as "#ffffff", or null/,
      ],
      [
        { video_id: video.id, background: { replaceWith: '#fff' } },
        ['background', 'replaceWith'],
        /^input\.background\.replaceWith: is not a field of this request; the fields are remove, color, similarity, replace_with$/,
      ],
      [{ video_id: video.id, webhook_url: 7 }, ['webhook_url'], /^input\.webhook_url: must be an http\(s\) URL; got 7$/],
      [
        { video_id: video.id, outputformat: 'webm' },
        ['outputformat'],
        /^input\.outputformat: is not a field of this request; the fields are video_id, model, output_format, /,
      ],
    ];
    for (const [json, path, detail] of cases) {
      const answer = await call('POST', '/api/v1/jobs', { json });
      const what = JSON.stringify(json);
      expect(answer, what).toMatchObject({
        status: 400,
        body: {
          ...INVALID,
          error: { code: 'INVALID_INPUT', detail: expect.stringMatching(detail), field_errors: [{ path: ['input', ...path], message: expect.any(String) }] },
        },
      });
      expect(answer.body.error.field_errors, what).toHaveLength(1);
    }
    // Several wrong fields: each one named, and nothing queued.
    const several = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, model: 'turbo', output_format: 'avi', timeout_seconds: 'x' } });
    expect(several.body.error.field_errors.map((f: { path: string[] }) => f.path.join('.'))).toEqual([
      'input.model',
      'input.output_format',
      'input.timeout_seconds',
    ]);
    expect((await app.services.database.sql`select count(*)::int as n from jobs where video_id = ${video.id}`)[0].n).toBe(0);
  });

  it('answers a body that is not a JSON object 400 INVALID_INPUT, after a missing or bad key (401)', async () => {
    for (const [raw, detail] of [
      ['{not json', /^The body is not a JSON object \(it is empty, malformed or null\)\. Send a JSON object/],
      ['', /^The body is not a JSON object/],
      ['[1, 2]', /^The body is a JSON array, not an object\./],
      ['"vid_x"', /^The body is a JSON string, not an object\./],
      ['null', /^The body is not a JSON object/],
    ] as const) {
      expect(await call('POST', '/api/v1/jobs', { raw }), raw).toMatchObject({
        status: 400,
        body: { ...INVALID, error: { code: 'INVALID_INPUT', detail: expect.stringMatching(detail) } },
      });
    }
    // The key is checked first, whatever the body, as every other path does.
    expect(await call('POST', '/api/v1/jobs', { key: null, raw: '{not json' })).toMatchObject({
      status: 401,
      body: { success: false, error: { code: 'UNAUTHENTICATED' } },
    });
    expect(await call('POST', '/api/v1/jobs', { key: 'vq_not_a_key', json: { model: 'turbo' } })).toMatchObject({
      status: 401,
      body: { success: false, error: { code: 'INVALID_API_KEY' } },
    });
    expect(await call('POST', '/api/v1/videos', { key: null, json: {} })).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
  });

  it('takes background with replace_with (snake_case, as the OpenAPI document says) and stores it with the job', async () => {
    const documented = REST_PATHS['/api/v1/jobs'].post.requestBody.content['application/json'].schema.properties.background.properties;
    expect(Object.keys(documented)).toEqual(['remove', 'color', 'similarity', 'replace_with']);

    const video = (await call('POST', '/api/v1/videos', { form: await form(clip) })).body.data;
    const background = { color: '#00FF00', similarity: 0.2, replace_with: '#fff' };
    const submitted = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, output_format: 'mp4', background } });
    expect(submitted.status).toBe(202);
    const stored = { remove: true, color: '#00ff00', similarity: 0.2, replace_with: '#ffffff' };
    expect(submitted.body.data.options).toEqual({ model: 'ORIGINAL', output_format: 'MP4', background: stored });
    const jobId = submitted.body.data.id as string;
    expect((await call('GET', `/api/v1/jobs/${jobId}`)).body.data.options.background).toEqual(stored);
    const [row] = await app.services.database.sql`select options from jobs where id = ${jobId}`;
    expect(row.options.background).toEqual({ remove: true, color: '#00ff00', similarity: 0.2, replaceWith: '#ffffff' });
    await waitForStatus(app, jobId, ['COMPLETED']);

    // The resolver's own checks answer in the REST names too (transparency needs WEBM).
    const transparent = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, background: { remove: true } } });
    expect(transparent).toMatchObject({ status: 400, body: { ...INVALID, error: { code: 'INVALID_INPUT' } } });
    expect(transparent.body.error.field_errors.map((f: { path: string[] }) => f.path)).toEqual([
      ['input', 'background', 'replace_with'],
      ['input', 'output_format'],
    ]);
    expect(transparent.body.error.detail).toMatch(
      /^input\.background\.replace_with: MP4 cannot carry transparency: use output_format WEBM, or set background\.replace_with/,
    );
    expect(JSON.stringify(transparent.body)).not.toMatch(/replaceWith|outputFormat/);
    const webm = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, output_format: 'webm', background: { replace_with: null } } });
    expect(webm.status).toBe(202);
    expect(webm.body.data.options.background).toMatchObject({ remove: true, replace_with: null });
    await waitForStatus(app, webm.body.data.id, ['COMPLETED']);

    // And the upload's: recorded_at as the form names it.
    const badDate = await call('POST', '/api/v1/videos', { form: await form(clip, [['recorded_at', 'yesterday']]) });
    expect(badDate).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', field_errors: [{ path: ['input', 'recorded_at'] }] } } });
    expect(badDate.body.error.detail).toMatch(/^input\.recorded_at: /);
  });

  it("answers a failed job's result 500 JOB_FAILED, as the catalog and the OpenAPI document say", async () => {
    const video = (await call('POST', '/api/v1/videos', { form: await form(clip) })).body.data;
    const failing = await call('POST', '/api/v1/jobs', { json: { video_id: video.id, pipeline: 'exits', stage_options: { exitwith: { code: 64 } } } });
    expect(failing.status).toBe(202);
    await waitForStatus(app, failing.body.data.id, ['FAILED']);
    expect(await call('GET', `/api/v1/jobs/${failing.body.data.id}/result`)).toMatchObject({
      status: 500,
      body: { success: false, message: 'The job failed.', error: { code: 'JOB_FAILED' } },
    });
    expect(Object.keys(REST_PATHS['/api/v1/jobs/{job_id}/result'].get.responses)).toContain('500');
    expect(Object.keys(REST_PATHS['/api/v1/jobs/{job_id}/result'].get.responses)).not.toContain('422');
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

  it("lists for each path the catalog's status of every code it answers", async () => {
    const result = REST_PATHS['/api/v1/jobs/{job_id}/result'].get.responses as Record<string, { description: string }>;
    expect(Object.keys(result)).toEqual(['200', '400', '401', '404', '409', '429', '500', '503', '504']);
    expect(result['500'].description).toBe('JOB_FAILED or INTERNAL_ERROR');
    expect(result['504'].description).toBe('JOB_TIMEOUT');
    expect(result['409'].description).toBe('JOB_NOT_COMPLETE');
    expect(Object.keys(REST_PATHS['/api/v1/jobs'].post.responses)).toEqual(['202', '400', '401', '402', '404', '409', '413', '429', '500', '503']);
    for (const [template, methods] of Object.entries(REST_PATHS)) {
      for (const operation of Object.values(methods)) {
        const responses = operation.responses as Record<string, { description: string }>;
        for (const [status, response] of Object.entries(responses)) {
          // Each code named is one the catalog answers with this status (413 INVALID_INPUT: a body over its cap).
          const named = Object.values(ERROR_CATALOG).filter((entry) => new RegExp(`\\b${entry.code}\\b`).test(response.description));
          if (Number(status) >= 400) expect(named.length, `${template} ${status}`).toBeGreaterThan(0);
          for (const entry of named) {
            const expected = entry.code === 'INVALID_INPUT' && status === '413' ? 413 : entry.httpStatus;
            expect(Number(status), `${template} ${status} ${entry.code}`).toBe(expected);
          }
        }
      }
    }
  });

  it('lists every status the paths answered in the tests above', () => {
    expect(answered.size).toBeGreaterThan(5);
    for (const [where, statuses] of answered) {
      const [method, template] = where.split(' ');
      const operation = (REST_PATHS as Record<string, Record<string, { responses: Record<string, unknown> }>>)[template]?.[method];
      if (!operation) continue; // /api/v1/nothing: the router's 404
      for (const status of statuses) expect(Object.keys(operation.responses), where).toContain(String(status));
    }
  });
});
