// MAX_FILE_SIZE_MB: a server started with a 1 MB limit, and files of exactly the limit, one byte
// more, and far more, sent with and without a Content-Length.
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { makePng, makeVideo } from '../helpers/media';
import { multipartFrame, result, snapshot, upload, useOwnTmpdir } from '../helpers/upload';

const LIMIT = 1024 * 1024; // MAX_FILE_SIZE_MB=1

let app: TestApp;
let alice: TestUser;
let media: string;
let clip: Buffer;
let tmp: Awaited<ReturnType<typeof useOwnTmpdir>>;
let before: Awaited<ReturnType<typeof snapshot>>;

/** A valid mp4 of exactly `size` bytes: the clip followed by a top-level `free` box, which players skip. */
function mp4OfSize(size: number): Buffer {
  const pad = size - clip.length;
  const box = Buffer.alloc(pad);
  box.writeUInt32BE(pad, 0);
  box.write('free', 4, 'latin1');
  return Buffer.concat([clip, box]);
}

beforeAll(async () => {
  tmp = await useOwnTmpdir();
  media = await mkdtemp(path.join(os.tmpdir(), 'media-'));
  clip = await readFile(await makeVideo(media, { format: 'mp4', seconds: 1 }));
  app = await startTestApp({ env: { MAX_FILE_SIZE_MB: '1' } });
  alice = await app.createUser({ name: 'alice' });
});
afterAll(async () => {
  await app?.close();
  await rm(media, { recursive: true, force: true });
  await tmp?.restore();
});

describe('within the limit', () => {
  it('accepts a valid video of exactly MAX_FILE_SIZE_MB', async () => {
    const res = result(await upload(app, alice.key, { file: mp4OfSize(LIMIT), filename: 'exact.mp4' }));
    expect(res.__typename).toBe('UploadVideoSuccess');
    expect(res.video.sizeBytes).toBe(LIMIT);
  });
});

describe('over the limit', () => {
  beforeEach(async () => {
    before = await snapshot(app);
  });
  afterEach(async () => {
    await expect.poll(() => snapshot(app)).toEqual(before);
  });

  it('refuses the limit plus one byte with FileTooLargeError, keeping nothing', async () => {
    const res = result(await upload(app, alice.key, { file: mp4OfSize(LIMIT + 1), filename: 'one-too-many.mp4' }));
    expect(res).toEqual({
      __typename: 'FileTooLargeError',
      message: 'Uploaded file exceeds the maximum allowed size.',
      code: 'FILE_TOO_LARGE',
      // The stream was cut one byte past the limit: the size is known only to be over it.
      detail: 'File size is more than 1 MB. Maximum allowed is 1 MB.',
      retryable: false,
      maxBytes: LIMIT,
    });
  });

  it('names the size when the declared length shows it clearly: a 3 MB file', async () => {
    const res = result(await upload(app, alice.key, { file: mp4OfSize(3 * LIMIT), filename: 'big.mp4' }));
    expect(res.code).toBe('FILE_TOO_LARGE');
    expect(res.detail).toBe('File size is 3 MB. Maximum allowed is 1 MB.');
  });

  it('answers as soon as the limit is passed, while the client is still sending (no Content-Length)', async () => {
    const boundary = 'vidqChunkedBoundary';
    const { before: head, after: tail } = multipartFrame(boundary, { filename: 'streamed.mp4' });
    const file = mp4OfSize(4 * LIMIT);
    const req = http.request(`${app.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    req.on('error', () => {});
    const answered = new Promise<{ status: number; body: any }>((resolve) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      });
    });
    expect(req.getHeader('content-length')).toBeUndefined(); // chunked: the size is not announced
    req.write(head);
    req.write(file.subarray(0, 2 * LIMIT)); // past the limit, with 2 MB still to come
    const res = await answered;
    expect(res.body.data.uploadVideo).toMatchObject({
      __typename: 'FileTooLargeError',
      detail: 'File size is more than 1 MB. Maximum allowed is 1 MB.',
      maxBytes: LIMIT,
    });
    req.end(Buffer.concat([file.subarray(2 * LIMIT), tail]));
  });

  it('still says UNSUPPORTED_FORMAT for a too large file whose bytes are not a video (format first)', async () => {
    const png = await readFile(await makePng(media));
    const res = result(await upload(app, alice.key, { file: Buffer.concat([png, Buffer.alloc(2 * LIMIT)]), filename: 'x.mp4' }));
    expect(res.code).toBe('UNSUPPORTED_FORMAT');
  });
});
