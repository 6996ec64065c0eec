// Resumable uploads (tus 1.0.0 at /uploads) driven by the real tus-js-client, and createVideoFromUpload.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredTusUploads, tusDirectory } from '../../src/uploads/tus/store';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { createTestDatabase } from '../helpers/db';
import { gql } from '../helpers/graphql';
import { makeVideo } from '../helpers/media';

const CREATE = `mutation($input: CreateVideoFromUploadInput!) {
  createVideoFromUpload(input: $input) {
    __typename
    ... on UploadVideoSuccess { video { id sizeBytes filename format } }
    ... on UploadIncompleteError { code offset length }
    ... on Error { code message detail }
  }
}`;

let app: TestApp;
let alice: TestUser;
let bob: TestUser;
let dir: string;
let clip: Buffer;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Runs a tus-js-client upload to the end (or until `stopAfterBytes`, then aborts); resolves with its URL. */
function tusUpload(
  key: string,
  data: Buffer,
  opts: { filename?: string; uploadUrl?: string; stopAfterBytes?: number; withCreation?: boolean; origin?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(data, {
      endpoint: `${opts.origin ?? app.url}/uploads`,
      uploadUrl: opts.uploadUrl,
      headers: { Authorization: `Bearer ${key}` },
      metadata: { filename: opts.filename ?? 'clip.mp4', filetype: 'video/mp4' },
      chunkSize: 16 * 1024,
      retryDelays: [],
      uploadDataDuringCreation: opts.withCreation ?? false,
      storeFingerprintForResuming: false,
      onChunkComplete(_chunk, accepted) {
        if (opts.stopAfterBytes !== undefined && accepted >= opts.stopAfterBytes) {
          void upload.abort().then(() => resolve(upload.url!));
        }
      },
      onSuccess: () => resolve(upload.url!),
      onError: reject,
    });
    upload.start();
  });
}

const uploadIdOf = (url: string) => url.split('/').pop()!;
const tusRequest = (method: string, url: string, key: string | null, headers: Record<string, string> = {}, body?: Buffer) =>
  fetch(url, {
    method,
    headers: { 'Tus-Resumable': '1.0.0', ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers },
    body: body && new Uint8Array(body),
  });

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-tus-'));
  clip = await fs.readFile(await makeVideo(dir, { format: 'mp4', seconds: 4, width: 640, height: 360 }));
  app = await startTestApp({ env: { MAX_FILE_SIZE_MB: '5' } });
  alice = await app.createUser({ name: 'alice' });
  bob = await app.createUser({ name: 'bob' });
});
afterAll(async () => {
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('a resumable upload', () => {
  it('aborted mid-way and resumed from its URL ends byte-identical, and becomes a video that consumes it', async () => {
    expect(clip.length).toBeGreaterThan(4 * 16 * 1024); // several chunks
    const url = await tusUpload(alice.key, clip, { stopAfterBytes: 32 * 1024 });
    const head = await tusRequest('HEAD', url, alice.key);
    expect(head.status).toBe(200);
    const offset = Number(head.headers.get('upload-offset'));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(clip.length);

    expect(await tusUpload(alice.key, clip, { uploadUrl: url })).toBe(url);
    const id = uploadIdOf(url);
    expect(id).toMatch(/^upl_[0-9a-z]+$/);
    expect(sha256(await fs.readFile(path.join(tusDirectory(app.config), id)))).toBe(sha256(clip));

    const created = (await gql(app.url, alice.key, CREATE, { input: { uploadId: id, title: 'resumed' } })).body.data.createVideoFromUpload;
    expect(created).toMatchObject({ __typename: 'UploadVideoSuccess', video: { sizeBytes: clip.length, filename: 'clip.mp4', format: 'mp4' } });
    const [row] = await app.services.database.sql`select sha256, storage_path from videos where id = ${created.video.id}`;
    expect(row.sha256).toBe(sha256(clip));
    expect(sha256(await fs.readFile(path.join(app.dataDir, row.storage_path)))).toBe(sha256(clip));
    // Consumed: the bytes are the video's now, the upload is gone.
    expect((await tusRequest('HEAD', url, alice.key)).status).toBe(404);
    expect((await fs.readdir(tusDirectory(app.config))).filter((f) => f.startsWith(id))).toEqual([]);
    const again = (await gql(app.url, alice.key, CREATE, { input: { uploadId: id } })).body.data.createVideoFromUpload;
    expect(again).toMatchObject({ __typename: 'UploadNotFoundError', code: 'UPLOAD_NOT_FOUND' });
    expect(again.detail).toMatch(/already made into one \(query videos\)\. Upload the file again/);
  });

  it('sent with its creation request (creation-with-upload) works the same, and a repeat with the idempotency key returns the first video', async () => {
    const id = uploadIdOf(await tusUpload(alice.key, clip, { withCreation: true }));
    const first = (await gql(app.url, alice.key, CREATE, { input: { uploadId: id, idempotencyKey: 'tus-1' } })).body.data.createVideoFromUpload;
    expect(first.__typename).toBe('UploadVideoSuccess');
    const repeat = (await gql(app.url, alice.key, CREATE, { input: { uploadId: id, idempotencyKey: 'tus-1' } })).body.data.createVideoFromUpload;
    expect(repeat).toMatchObject({ __typename: 'UploadVideoSuccess', video: { id: first.video.id } });
  });

  it('not finished yet is UploadIncompleteError with how far it got', async () => {
    const url = await tusUpload(alice.key, clip, { stopAfterBytes: 16 * 1024 });
    const answer = (await gql(app.url, alice.key, CREATE, { input: { uploadId: uploadIdOf(url) } })).body.data.createVideoFromUpload;
    expect(answer).toMatchObject({ __typename: 'UploadIncompleteError', code: 'UPLOAD_INCOMPLETE', length: clip.length });
    expect(answer.offset).toBeGreaterThanOrEqual(16 * 1024);
    expect(answer.offset).toBeLessThan(clip.length);
    expect((await tusRequest('HEAD', url, alice.key)).status).toBe(200); // still there to be resumed
  });

  it('that is not a video is refused by createVideoFromUpload with uploadVideo’s error, and removed, storing nothing', async () => {
    const before = await app.services.database.sql`select count(*)::int as n from videos`;
    const garbage = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(200 * 1024, 0x41)]);
    const url = await tusUpload(alice.key, garbage, { filename: 'broken.mp4' });
    const answer = (await gql(app.url, alice.key, CREATE, { input: { uploadId: uploadIdOf(url) } })).body.data.createVideoFromUpload;
    expect(answer).toMatchObject({ __typename: 'VideoCorruptError', code: 'VIDEO_CORRUPT' });
    expect(answer.detail).toContain('broken.mp4');
    expect((await tusRequest('HEAD', url, alice.key)).status).toBe(404);
    expect(await app.services.database.sql`select count(*)::int as n from videos`).toEqual(before);
    const leftovers = (await fs.readdir(path.join(app.dataDir, 'uploads'), { recursive: true }).catch(() => [])).filter((f) => String(f).endsWith('.part'));
    expect(leftovers).toEqual([]);
  });
});

describe('a resumable upload across a restart of the API process', () => {
  it('resumes from its URL where it stopped, still its creator’s only, and becomes a video', async () => {
    // One installation, stopped and started again (a deploy): the same database and DATA_DIR, a new process.
    const database = await createTestDatabase();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-tus-restart-'));
    const env = { MAX_FILE_SIZE_MB: '5' };
    let before: TestApp | null = await startTestApp({ database, dataDir, env });
    let after: TestApp | null = null;
    try {
      const carol = await before.createUser({ name: 'carol' });
      const dave = await before.createUser({ name: 'dave' });
      const firstUrl = await tusUpload(carol.key, clip, { origin: before.url, stopAfterBytes: 32 * 1024 });
      const offset = Number((await tusRequest('HEAD', firstUrl, carol.key)).headers.get('upload-offset'));
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(clip.length);
      await before.close();
      before = null;

      after = await startTestApp({ database, dataDir, env });
      // Behind a fixed address the URL stays the same; here the new process listens on another port.
      const url = `${after.url}${new URL(firstUrl).pathname}`;
      const head = await tusRequest('HEAD', url, carol.key);
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('upload-offset'))).toBe(offset);
      expect((await tusRequest('HEAD', url, dave.key)).status).toBe(404);

      expect(await tusUpload(carol.key, clip, { origin: after.url, uploadUrl: url })).toBe(url);
      const created = (await gql(after.url, carol.key, CREATE, { input: { uploadId: uploadIdOf(url) } })).body.data.createVideoFromUpload;
      expect(created).toMatchObject({ __typename: 'UploadVideoSuccess', video: { sizeBytes: clip.length } });
      const [row] = await after.services.database.sql`select sha256, storage_path from videos where id = ${created.video.id}`;
      expect(row.sha256).toBe(sha256(clip));
      expect(sha256(await fs.readFile(path.join(dataDir, row.storage_path)))).toBe(sha256(clip));
    } finally {
      await before?.close();
      await after?.close();
      await database.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the tus endpoint', () => {
  it('answers 401 without a valid API key, before creating anything', async () => {
    const records = async () => (await fs.readdir(tusDirectory(app.config)).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).length;
    const before = await records();
    const headers = { 'Upload-Length': String(clip.length), 'Upload-Metadata': `filename ${b64('clip.mp4')}` };
    expect((await tusRequest('POST', `${app.url}/uploads`, null, headers)).status).toBe(401);
    const missing = await tusRequest('POST', `${app.url}/uploads`, null, headers);
    expect(await missing.text()).toContain('Send Authorization: Bearer vq_… with every tus request.');
    const wrong = await tusRequest('POST', `${app.url}/uploads`, 'vq_not_a_key', { ...headers, Origin: 'https://app.example' });
    expect(wrong.status).toBe(401);
    // Readable by a browser app on another origin, as @tus/server's own answers are.
    expect(wrong.headers.get('access-control-allow-origin')).toBe('*');
    expect(await wrong.text()).toBe(
      'The API key is invalid, revoked or disabled. Check the key sent in Authorization, or create one with `npx vidq keys create --user USER_ID`.\n',
    );
    expect(await records()).toBe(before);
  });

  it('refuses at creation, before any byte: 413 over MAX_FILE_SIZE_MB, 415 for an unsupported extension, 400 without a filename', async () => {
    const count = async () => (await fs.readdir(tusDirectory(app.config)).catch(() => [] as string[])).length;
    const before = await count();
    const tooBig = await tusRequest('POST', `${app.url}/uploads`, alice.key, {
      'Upload-Length': String(5 * 1024 * 1024 + 1),
      'Upload-Metadata': `filename ${b64('big.mp4')}`,
    });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.text()).toBe(`Upload-Length is over MAX_FILE_SIZE_MB: this server accepts files of up to 5 MB (${5 * 1024 * 1024} bytes).\n`);
    const text = await tusRequest('POST', `${app.url}/uploads`, alice.key, { 'Upload-Length': '100', 'Upload-Metadata': `filename ${b64('notes.txt')}` });
    expect(text.status).toBe(415);
    expect(await text.text()).toContain('Received file with extension .txt. Supported formats: mp4, mov, avi, mkv, webm.');
    const nameless = await tusRequest('POST', `${app.url}/uploads`, alice.key, { 'Upload-Length': '100' });
    expect(nameless.status).toBe(400);
    expect(await nameless.text()).toContain('filename');
    expect(await count()).toBe(before);
  });

  it('refuses a PATCH that would pass Upload-Length', async () => {
    const created = await tusRequest('POST', `${app.url}/uploads`, alice.key, { 'Upload-Length': '10', 'Upload-Metadata': `filename ${b64('small.mp4')}` });
    expect(created.status).toBe(201);
    expect(Date.parse(created.headers.get('upload-expires')!)).toBeGreaterThan(Date.now() + 23 * 3600_000); // the expiration extension
    const url = created.headers.get('location')!;
    const patch = await tusRequest('PATCH', url, alice.key, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, Buffer.alloc(20));
    expect(patch.status).toBe(413);
    expect(await patch.text()).toContain('This PATCH would pass the Upload-Length given at creation');
    const head = await tusRequest('HEAD', url, alice.key);
    expect(Number(head.headers.get('upload-offset'))).toBeLessThanOrEqual(10);
  });

  it('shows an upload to its creator only: another user’s HEAD, PATCH, DELETE and createVideoFromUpload find nothing', async () => {
    const url = await tusUpload(alice.key, clip);
    expect((await tusRequest('HEAD', url, bob.key)).status).toBe(404);
    expect((await tusRequest('PATCH', url, bob.key, { 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, Buffer.alloc(1))).status).toBe(
      404,
    );
    expect((await tusRequest('DELETE', url, bob.key)).status).toBe(404);
    const answer = (await gql(app.url, bob.key, CREATE, { input: { uploadId: uploadIdOf(url) } })).body.data.createVideoFromUpload;
    expect(answer.__typename).toBe('UploadNotFoundError');
    expect((await tusRequest('HEAD', url, alice.key)).status).toBe(200);
    // The creator may end it (termination).
    expect((await tusRequest('DELETE', url, alice.key)).status).toBe(204);
    expect((await tusRequest('HEAD', url, alice.key)).status).toBe(404);
  });

  it('removes uploads past UPLOAD_EXPIRY_HOURS, finished or not', async () => {
    const finished = uploadIdOf(await tusUpload(alice.key, clip));
    const unfinished = uploadIdOf(await tusUpload(alice.key, clip, { stopAfterBytes: 16 * 1024 }));
    const fresh = uploadIdOf(await tusUpload(alice.key, clip, { stopAfterBytes: 16 * 1024 }));
    for (const id of [finished, unfinished]) {
      const info = path.join(tusDirectory(app.config), `${id}.json`);
      const record = JSON.parse(await fs.readFile(info, 'utf8'));
      record.creation_date = new Date(Date.now() - 25 * 3600_000).toISOString();
      await fs.writeFile(info, JSON.stringify(record));
    }
    expect((await sweepExpiredTusUploads(app.config)).sort()).toEqual([finished, unfinished].sort());
    const answer = (await gql(app.url, alice.key, CREATE, { input: { uploadId: finished } })).body.data.createVideoFromUpload;
    expect(answer.__typename).toBe('UploadNotFoundError');
    expect((await tusRequest('HEAD', `${app.url}/uploads/${unfinished}`, alice.key)).status).toBe(404);
    expect((await tusRequest('HEAD', `${app.url}/uploads/${fresh}`, alice.key)).status).toBe(200);
    const names = await fs.readdir(tusDirectory(app.config));
    expect(names.filter((n) => n.startsWith(finished) || n.startsWith(unfinished))).toEqual([]);
  });
});
