// uploadVideo through real multipart HTTP requests: what an accepted upload stores and answers.
import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { CONTAINERS, type Container, ffmpeg, makeStreamedWebm, makeVideo } from '../helpers/media';
import { result, snapshot, storedFileNames, strayTmpFiles, upload, uploadOperations, useOwnTmpdir } from '../helpers/upload';

let app: TestApp;
let alice: TestUser;
let admin: TestUser;
let media: string;
let tmp: Awaited<ReturnType<typeof useOwnTmpdir>>;
const clips = {} as Record<Container, string>;

const CONTENT_TYPES: Record<Container, string> = {
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  mkv: 'video/x-matroska',
  webm: 'video/webm',
};
const CODECS: Record<Container, [string, string]> = {
  mp4: ['h264', 'aac'],
  mov: ['h264', 'aac'],
  avi: ['mpeg4', 'mp3'],
  mkv: ['h264', 'aac'],
  webm: ['vp9', 'opus'],
};

beforeAll(async () => {
  tmp = await useOwnTmpdir();
  media = await mkdtemp(path.join(os.tmpdir(), 'media-'));
  for (const format of CONTAINERS) clips[format] = await makeVideo(media, { format, seconds: 2 });
  app = await startTestApp();
  alice = await app.createUser({ name: 'alice' });
  admin = await app.createUser({ name: 'root', admin: true });
});
afterAll(async () => {
  await app?.close();
  await rm(media, { recursive: true, force: true });
  await tmp?.restore();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('every accepted container', () => {
  it.each(CONTAINERS)('accepts a real %s made by ffmpeg and measures it with ffprobe', async (format) => {
    const bytes = await readFile(clips[format]);
    const video = result(await upload(app, alice.key, { file: clips[format], filename: `holiday.${format}` })).video;
    expect(video).toMatchObject({
      id: expect.stringMatching(/^vid_[0-9a-z]{20}$/),
      filename: `holiday.${format}`,
      format,
      contentType: CONTENT_TYPES[format],
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      owner: { id: alice.id, name: 'alice' },
      metadata: {
        width: 320,
        height: 240,
        videoCodec: CODECS[format][0],
        audioCodec: CODECS[format][1],
        frameRate: 25,
      },
    });
    expect(video.metadata.durationSeconds).toBeGreaterThan(1.9);
    expect(video.metadata.durationSeconds).toBeLessThan(2.2);
    expect(video.metadata.bitRate).toBeGreaterThan(0);
    // Stored under a generated name, byte for byte.
    const [row] = await app.services.database.sql`select storage_path from videos where id = ${video.id}`;
    expect(row.storage_path).toBe(`uploads/${video.id}/source.${format}`);
    expect(sha256(await readFile(path.join(app.dataDir, row.storage_path)))).toBe(video.sha256);
  });

  it('accepts a WebM written to a pipe, whose header carries no duration, and measures its length', async () => {
    const file = await makeStreamedWebm(media);
    const video = result(await upload(app, alice.key, { file })).video;
    expect(video.format).toBe('webm');
    expect(video.metadata.durationSeconds).toBeGreaterThan(1.8);
  });

  it('judges the container by the bytes when the name is another accepted extension', async () => {
    const video = result(await upload(app, alice.key, { file: clips.mkv, filename: 'really-matroska.mp4' })).video;
    expect(video).toMatchObject({ filename: 'really-matroska.mp4', format: 'mkv', contentType: 'video/x-matroska' });
  });

  it('accepts a Blob sent without a file name (fs.openAsBlob, MediaRecorder, apollo-upload-client), naming it by its bytes', async () => {
    const { operations, map } = uploadOperations();
    const form = new FormData();
    form.append('operations', JSON.stringify(operations));
    form.append('map', JSON.stringify(map));
    form.append('0', await openAsBlob(clips.webm)); // no name given: sent as "blob"
    const answer = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${alice.key}` }, body: form });
    const video = (await answer.json()).data.uploadVideo.video;
    expect(video).toMatchObject({ filename: 'blob.webm', format: 'webm', contentType: 'video/webm' });
    expect(video.metadata.durationSeconds).toBeGreaterThan(0);
  });

  it('accepts an upper-case extension', async () => {
    expect(result(await upload(app, alice.key, { file: clips.mov, filename: 'IMG_0001.MOV' })).video.format).toBe('mov');
  });

  it('accepts a file larger than Yoga’s 25 MB body limit, which does not apply to uploads', async () => {
    const big = path.join(media, 'big-raw.mkv');
    // Uncompressed 1280x720 frames: 1.3 MiB each, 30 of them.
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=1280x720:r=25', '-frames:v', '30', '-pix_fmt', 'yuv420p', '-c:v', 'rawvideo', big]);
    const bytes = await readFile(big);
    expect(bytes.length).toBeGreaterThan(30 * 1024 * 1024);
    const video = result(await upload(app, alice.key, { file: big })).video;
    expect(video).toMatchObject({ format: 'mkv', sizeBytes: bytes.length, sha256: sha256(bytes), metadata: { videoCodec: 'rawvideo' } });
  });

  it('accepts the file as a top-level variable of an inline input, as in the README’s curl example', async () => {
    const form = new FormData();
    const query = 'mutation($file: Upload!) { uploadVideo(input: { file: $file, title: "Demo" }) { ... on UploadVideoSuccess { video { title format } } } }';
    form.append('operations', JSON.stringify({ query, variables: { file: null } }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', new Blob([new Uint8Array(await readFile(clips.mp4))]), 'clip.mp4');
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${alice.key}` }, body: form });
    expect((await res.json()).data.uploadVideo.video).toEqual({ title: 'Demo', format: 'mp4' });
  });

  it('ignores a file part that the map does not name', async () => {
    const form = new FormData();
    const { operations, map } = uploadOperations();
    form.append('operations', JSON.stringify(operations));
    form.append('map', JSON.stringify(map));
    form.append('stray', new Blob([new Uint8Array(1024)]), 'stray.bin');
    form.append('0', new Blob([new Uint8Array(await readFile(clips.mp4))]), 'named.mp4');
    const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${alice.key}` }, body: form });
    const video = (await res.json()).data.uploadVideo.video;
    expect(video).toMatchObject({ filename: 'named.mp4', format: 'mp4' });
  });

  it('leaves no temp file behind, neither in DATA_DIR nor in os.tmpdir()', async () => {
    const video = result(await upload(app, alice.key, { file: clips.mp4 })).video;
    const files = await storedFileNames(app);
    expect(files).toContain(`${video.id}/source.mp4`);
    expect(files.filter((f) => f.startsWith('.tmp/'))).toEqual([]);
    await expect.poll(strayTmpFiles).toEqual([]);
  });
});

describe('input fields', () => {
  it('keeps the title, trimmed, and recordedAt', async () => {
    const video = result(
      await upload(app, alice.key, {
        file: clips.mp4,
        input: { title: '  Sunset at the pier  ', recordedAt: '2026-04-20T10:00:00+02:00' },
      }),
    ).video;
    expect(video.title).toBe('Sunset at the pier');
    expect(video.recordedAt).toBe('2026-04-20T08:00:00.000Z');
  });

  it.each([
    ['../../x.mp4', 'x.mp4'],
    ['..\\..\\windows\\system32\\x.mp4', 'x.mp4'],
    ['a.php%00.mp4', 'a.php.mp4'],
    ['.hidden.mp4', 'hidden.mp4'],
    ['con\u202egnp.mp4', 'congnp.mp4'],
  ])('stores %j under a generated name and keeps only the harmless name %j', async (sent, kept) => {
    const video = result(await upload(app, alice.key, { file: clips.mp4, filename: sent })).video;
    expect(video.filename).toBe(kept);
    expect(video.format).toBe('mp4');
    const [row] = await app.services.database.sql`select storage_path from videos where id = ${video.id}`;
    expect(row.storage_path).toBe(`uploads/${video.id}/source.mp4`);
    // Nothing was written outside DATA_DIR/uploads/<id>/.
    expect((await storedFileNames(app)).filter((f) => !/^vid_[0-9a-z]+\/source\.[a-z0-9]+$/.test(f))).toEqual([]);
  });

  it('shortens a 300-character filename to 200 characters, keeping the extension', async () => {
    const video = result(await upload(app, alice.key, { file: clips.mp4, filename: `${'a'.repeat(296)}.mp4` })).video;
    expect(video.filename).toBe(`${'a'.repeat(196)}.mp4`);
    expect(video.format).toBe('mp4');
  });
});

describe('ownership', () => {
  it('lets an admin upload on behalf of another user, who then owns and sees the video', async () => {
    const video = result(await upload(app, admin.key, { file: clips.mp4, input: { ownerId: alice.id } })).video;
    expect(video.owner).toEqual({ id: alice.id, name: 'alice' });
    const [row] = await app.services.database.sql`select owner_id from videos where id = ${video.id}`;
    expect(row.owner_id).toBe(alice.id);
  });

  it('lets a user name themself as owner', async () => {
    const video = result(await upload(app, alice.key, { file: clips.mp4, input: { ownerId: alice.id } })).video;
    expect(video.owner.id).toBe(alice.id);
  });
});

describe('idempotency', () => {
  it('returns the first video for a repeated idempotencyKey and stores nothing new', async () => {
    const first = result(await upload(app, alice.key, { file: clips.mp4, input: { idempotencyKey: 'repeat-1' } })).video;
    const before = await snapshot(app);
    const again = result(await upload(app, alice.key, { file: clips.webm, input: { idempotencyKey: 'repeat-1' } })).video;
    expect(again).toEqual(first);
    await expect.poll(() => snapshot(app)).toEqual(before);
  });

  it('scopes keys to the owner: the same key from another user is a new upload', async () => {
    const bob = await app.createUser({ name: 'bob' });
    const a = result(await upload(app, alice.key, { file: clips.mp4, input: { idempotencyKey: 'shared-key' } })).video;
    const b = result(await upload(app, bob.key, { file: clips.mp4, input: { idempotencyKey: 'shared-key' } })).video;
    expect(b.id).not.toBe(a.id);
    expect(b.owner.id).toBe(bob.id);
  });

  it('stores one video when two identical uploads with the same key race', async () => {
    const before = await snapshot(app);
    const long = await makeVideo(media, { format: 'mp4', seconds: 6, name: 'race' });
    const [a, b] = await Promise.all([
      upload(app, alice.key, { file: long, input: { idempotencyKey: 'race-1' } }),
      upload(app, alice.key, { file: long, input: { idempotencyKey: 'race-1' } }),
    ]);
    expect(result(a).video.id).toBe(result(b).video.id);
    const id = result(a).video.id;
    await expect
      .poll(() => snapshot(app))
      .toEqual({
        files: [...before.files, `${id}/source.mp4`].sort(),
        tmp: [],
        videos: before.videos + 1,
      });
  });
});
