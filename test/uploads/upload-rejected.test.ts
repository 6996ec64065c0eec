// uploadVideo through real multipart HTTP requests: every refusal is typed, and leaves the store
// (DATA_DIR/uploads incl. .tmp, graphql-upload-ts's buffers in os.tmpdir(), the videos table) as it was.
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { ffmpeg, makeAbsurdCount, makeFlv, makeGarbageAfterHeader, makePng, makeTruncated, makeVideo } from '../helpers/media';
import { multipartFrame, result, snapshot, storedFileNames, upload, useOwnTmpdir } from '../helpers/upload';

let app: TestApp;
let alice: TestUser;
let admin: TestUser;
let media: string;
let mp4: string;
let tmp: Awaited<ReturnType<typeof useOwnTmpdir>>;
let before: Awaited<ReturnType<typeof snapshot>>;

const SUPPORTED = ['mp4', 'mov', 'avi', 'mkv', 'webm'];

beforeAll(async () => {
  tmp = await useOwnTmpdir();
  media = await mkdtemp(path.join(os.tmpdir(), 'media-'));
  mp4 = await makeVideo(media, { format: 'mp4', seconds: 2 });
  app = await startTestApp();
  alice = await app.createUser({ name: 'alice' });
  admin = await app.createUser({ name: 'root', admin: true });
  // One stored video, so "unchanged" is checked against a store that is not empty.
  result(await upload(app, alice.key, { file: mp4 }));
});
afterAll(async () => {
  await app?.close();
  await rm(media, { recursive: true, force: true });
  await tmp?.restore();
});

beforeEach(async () => {
  before = await snapshot(app);
});
afterEach(async () => {
  // Whatever was refused, nothing stays: no row, no stored file, no temp file, no buffer file.
  await expect.poll(() => snapshot(app)).toEqual(before);
});

/** A raw multipart POST whose body the test writes by hand. */
function rawUpload(key: string | null, boundary: string, headers: Record<string, string> = {}) {
  const req = http.request(`${app.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
  });
  req.on('error', () => {}); // the tests destroy some of these on purpose
  const response = new Promise<{ status: number; body: any }>((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
  });
  return { req, response };
}

describe('authentication', () => {
  it('refuses a bad key with the same 401 JSON as any other request, storing nothing', async () => {
    const res = await upload(app, 'vq_notAKeyThatExists0000000000', { file: mp4 });
    const plain = await gql(app.url, 'vq_notAKeyThatExists0000000000', '{ viewer { id } }');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(plain.body);
    expect(res.body.errors?.[0].extensions?.code).toBe('INVALID_API_KEY');
    expect(res.headers.get('content-type')).toBe(plain.headers.get('content-type'));
  });

  it('refuses a request without a key with the same 401 UNAUTHENTICATED as any other request', async () => {
    const res = await upload(app, null, { file: mp4 });
    const plain = await gql(app.url, null, '{ viewer { id } }');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(plain.body);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers a bad key before reading the body: the 401 arrives while the file is still unsent', async () => {
    const boundary = 'vidqBadKeyBoundary';
    const { before: head } = multipartFrame(boundary, { filename: 'clip.mp4' });
    const { req, response } = rawUpload('vq_notAKeyThatExists0000000000', boundary, {
      'content-length': String(head.length + 50 * 1024 * 1024),
    });
    req.write(head); // 50 MB announced, none of it sent
    const res = await response;
    req.destroy();
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.code).toBe('INVALID_API_KEY');
  });
});

describe('invalid input', () => {
  it('names every invalid field: an empty title, a too long title is refused too, and a malformed recordedAt', async () => {
    const res = result(await upload(app, alice.key, { file: mp4, input: { title: '   ', recordedAt: 'yesterday' } }));
    expect(res.__typename).toBe('InvalidInputError');
    expect(res).toMatchObject({ code: 'INVALID_INPUT', message: 'The request is invalid.', retryable: false });
    expect(res.fieldErrors).toEqual([
      { path: ['input', 'title'], message: 'must not be empty (leave it out instead)' },
      {
        path: ['input', 'recordedAt'],
        message: 'must be an ISO-8601 timestamp with a time zone, e.g. 2026-04-20T10:00:00Z (got "yesterday")',
      },
    ]);
    expect(res.detail).toContain('input.recordedAt: must be an ISO-8601 timestamp');

    const long = result(await upload(app, alice.key, { file: mp4, input: { title: 'x'.repeat(201) } }));
    expect(long.fieldErrors).toEqual([{ path: ['input', 'title'], message: 'must be at most 200 characters (got 201)' }]);
  });

  it('refuses a timestamp without a time zone', async () => {
    const res = result(await upload(app, alice.key, { file: mp4, input: { recordedAt: '2026-04-20T10:00:00' } }));
    expect(res.fieldErrors.map((f: { path: string[] }) => f.path)).toEqual([['input', 'recordedAt']]);
  });

  it('refuses a request whose file part is missing', async () => {
    const res = result(await upload(app, alice.key, { file: mp4, omitFilePart: true }));
    expect(res.__typename).toBe('InvalidInputError');
    expect(res.fieldErrors).toEqual([{ path: ['input', 'file'], message: 'no file was sent for this field' }]);
  });

  it('refuses a request carrying two files, storing neither', async () => {
    const res = result(await upload(app, alice.key, { file: mp4, extraFiles: 1 }));
    expect(res.__typename).toBe('InvalidInputError');
    expect(res.fieldErrors).toEqual([{ path: ['input', 'file'], message: 'send exactly one file per request; this request carried 2' }]);
  });

  it('refuses a malformed multipart request at the HTTP level with INVALID_INPUT', async () => {
    const form = new FormData();
    form.append('operations', '{not json');
    form.append('map', '{}');
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${alice.key}` }, body: form });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('INVALID_INPUT');
    expect(body.errors[0].message).toMatch(/Invalid JSON in the ‘operations’ multipart field/);
  });
});

describe('ownership', () => {
  it('refuses a non-admin naming another user as owner with ForbiddenError', async () => {
    const bob = await app.createUser({ name: 'bob' });
    const res = result(await upload(app, bob.key, { file: mp4, input: { ownerId: alice.id } }));
    expect(res).toMatchObject({
      __typename: 'ForbiddenError',
      code: 'FORBIDDEN',
      message: 'You do not have permission to perform this action.',
    });
    expect(res.detail).toContain(alice.id);
  });

  it('answers a refusal made before the file is read while a 20 MB file is still on its way', async () => {
    const bob = await app.createUser({ name: 'bob' });
    const big = Buffer.concat([await readFile(mp4), Buffer.alloc(20 * 1024 * 1024)]);
    const res = result(await upload(app, bob.key, { file: big, filename: 'big.mp4', input: { ownerId: alice.id } }));
    expect(res.__typename).toBe('ForbiddenError');
  });

  it('refuses an admin naming an owner that does not exist with InvalidInputError', async () => {
    const res = result(await upload(app, admin.key, { file: mp4, input: { ownerId: 'usr_doesnotexist00000000' } }));
    expect(res.__typename).toBe('InvalidInputError');
    expect(res.fieldErrors).toEqual([{ path: ['input', 'ownerId'], message: "no user with id 'usr_doesnotexist00000000' exists" }]);
  });
});

describe('formats', () => {
  it('refuses an .flv with the exact message and detail of the contract', async () => {
    const res = result(await upload(app, alice.key, { file: await makeFlv(media) }));
    expect(res).toEqual({
      __typename: 'UnsupportedFormatError',
      message: 'The uploaded file format is not supported.',
      code: 'UNSUPPORTED_FORMAT',
      detail: 'Received file with extension .flv. Supported formats: mp4, mov, avi, mkv, webm.',
      retryable: false,
      supportedFormats: SUPPORTED,
    });
  });

  it('refuses a file without an extension whose bytes are no video container, saying what they are', async () => {
    const res = result(await upload(app, alice.key, { file: await makePng(media), filename: 'blob' }));
    expect(res.code).toBe('UNSUPPORTED_FORMAT');
    expect(res.detail).toBe(
      'Received file without an extension whose content is a PNG image, not a video container. Supported formats: mp4, mov, avi, mkv, webm.',
    );
  });

  it('refuses a PNG renamed .mp4, saying what the bytes are', async () => {
    const res = result(await upload(app, alice.key, { file: await makePng(media), filename: 'holiday.mp4' }));
    expect(res.code).toBe('UNSUPPORTED_FORMAT');
    expect(res.detail).toBe(
      'Received file with extension .mp4, but its content is a PNG image, not an MP4/MOV (ISO base media) container. Supported formats: mp4, mov, avi, mkv, webm.',
    );
  });

  it('refuses text renamed .webm', async () => {
    const res = result(await upload(app, alice.key, { file: Buffer.from('hello, this is not a video\n'.repeat(100)), filename: 'notes.webm' }));
    expect(res.code).toBe('UNSUPPORTED_FORMAT');
    expect(res.detail).toMatch(/^Received file with extension \.webm, but its content is plain text, not an Matroska\/WebM/);
  });

  it('refuses an empty file', async () => {
    const res = result(await upload(app, alice.key, { file: Buffer.alloc(0), filename: 'empty.mkv' }));
    expect(res.code).toBe('UNSUPPORTED_FORMAT');
    expect(res.detail).toMatch(/its content is an empty file \(0 bytes\)/);
  });
});

describe('files the decoder cannot read', () => {
  it('refuses a truncated mp4 with VideoCorruptError and what the decoder said, naming the client’s file', async () => {
    const truncated = await makeTruncated(mp4, 0.5);
    const res = result(await upload(app, alice.key, { file: truncated, filename: 'cut.mp4' }));
    expect(res).toMatchObject({
      __typename: 'VideoCorruptError',
      code: 'VIDEO_CORRUPT',
      message: 'The uploaded video could not be processed.',
      retryable: false,
    });
    expect(res.detail.length).toBeGreaterThan(10);
    expect(res.detail).not.toMatch(/\.part|vid_|\/tmp|uploads/);
  });

  it('refuses an mp4 whose header claims more entries than memory holds with VideoCorruptError, not as a fault of the service', async () => {
    const res = result(await upload(app, alice.key, { file: await makeAbsurdCount(mp4, 'stts'), filename: 'absurd.mp4' }));
    expect(res).toMatchObject({ __typename: 'VideoCorruptError', code: 'VIDEO_CORRUPT', retryable: false });
    expect(res.detail).toMatch(/Cannot allocate memory/);
  });

  it('refuses an mp4 whose media data after a valid header is garbage', async () => {
    const res = result(await upload(app, alice.key, { file: await makeGarbageAfterHeader(mp4) }));
    expect(res.code).toBe('VIDEO_CORRUPT');
    expect(res.detail).toMatch(/Invalid|decod|error/i);
  });

  it('refuses an mp4 without a video stream', async () => {
    const audioOnly = path.join(media, 'audio-only.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=d=1', '-c:a', 'aac', audioOnly]);
    const res = result(await upload(app, alice.key, { file: audioOnly }));
    expect(res.code).toBe('VIDEO_CORRUPT');
    expect(res.detail).toMatch(/no video stream/);
  });
});

describe('a client that disconnects mid-upload', () => {
  it('leaves no row, no file and no temp file once the server noticed', async () => {
    const boundary = 'vidqDisconnectBoundary';
    const { before: head, after: tail } = multipartFrame(boundary, { filename: 'clip.mp4' });
    // A real mp4 header, then 8 MB the client never finishes sending.
    const body = Buffer.concat([await readFile(mp4), Buffer.alloc(8 * 1024 * 1024)]);
    const { req } = rawUpload(alice.key, boundary, { 'content-length': String(head.length + body.length + tail.length) });
    req.write(head);
    req.write(body.subarray(0, 1024 * 1024));
    // Wait until the server is streaming the file into its temp directory, then vanish.
    await expect.poll(async () => (await storedFileNames(app)).some((f) => f.startsWith('.tmp/') && f.endsWith('.part'))).toBe(true);
    req.destroy();
    // afterEach waits for the store to be exactly as before; the server still works afterwards.
    await expect.poll(() => snapshot(app)).toEqual(before);
    expect(result(await upload(app, alice.key, { file: mp4, input: { idempotencyKey: 'after-disconnect' } })).__typename).toBe('UploadVideoSuccess');
    await app.services.database.sql`delete from videos where idempotency_key = 'after-disconnect'`;
    for (const f of await storedFileNames(app)) {
      if (!before.files.includes(f)) await rm(path.join(app.dataDir, 'uploads', path.dirname(f)), { recursive: true, force: true });
    }
  });
});
