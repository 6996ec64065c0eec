// The storage interface, driver by driver: the same expectations for `local` (files under DATA_DIR) and
// `s3` (a real S3-protocol server, s3rver), byte for byte.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createStorage, StorageConfigError } from '../../src/storage/index';
import { type FollowedFile, type Storage, StorageUnavailableError } from '../../src/storage/types';
import { startS3, type TestS3 } from '../helpers/s3';

let dir: string;
let s3: TestS3;
let big: string;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-storage-'));
  s3 = await startS3();
  // Larger than one multipart part (8 MB): the s3 driver uploads it in parts.
  big = path.join(dir, 'big.bin');
  const data = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
  await fs.writeFile(big, data);
});
afterAll(async () => {
  await s3?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const drivers: Array<[string, () => Promise<Storage>]> = [
  ['local', () => createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data') }))],
  ['s3', () => createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-s3'), ...s3.env({ S3_PREFIX: 'tenant-a' }) }))],
];

describe.each(drivers)('the %s driver', (driver, make) => {
  let storage: Storage;
  beforeAll(async () => {
    storage = await make();
    await storage.check();
  });
  afterAll(() => storage.close());

  it('stores a file larger than one upload part and gives the same bytes back, whole and by range', async () => {
    const key = `outputs/job_${driver}1/video.mp4`;
    await storage.putFile(key, big, { contentType: 'video/mp4' });
    const original = await fs.readFile(big);
    expect(await storage.stat(key)).toEqual({ size: original.length });
    const whole = await storage.get(key);
    expect(whole!.size).toBe(original.length);
    expect(sha256(await readAll(whole!.body))).toBe(sha256(original));
    const part = await storage.get(key, { start: 1000, end: 1999 });
    expect(part!.size).toBe(original.length);
    expect(await readAll(part!.body)).toEqual(original.subarray(1000, 2000));
  });

  it('hands ffmpeg a local path holding the same bytes', async () => {
    const key = `uploads/vid_${driver}2/source.mp4`;
    await storage.putFile(key, big);
    const local = await storage.localPath(key, path.join(dir, `copy-${driver}`));
    expect(sha256(await fs.readFile(local))).toBe(sha256(await fs.readFile(big)));
    if (driver === 'local') expect(local).toBe(path.join(dir, 'data', 'uploads', `vid_${driver}2`, 'source.mp4'));
    else expect(path.dirname(local)).toBe(path.join(dir, `copy-${driver}`));
  });

  it('moves a file it is told it may take, leaving no copy behind', async () => {
    const temp = path.join(dir, `temp-${driver}.mp4`);
    await fs.copyFile(big, temp);
    await storage.putFile(`uploads/vid_${driver}3/source.mp4`, temp, { move: true });
    await expect(fs.stat(temp)).rejects.toThrow();
    expect(await storage.stat(`uploads/vid_${driver}3/source.mp4`)).toEqual({ size: (await fs.stat(big)).size });
  });

  it('lists by prefix, deletes one object and a whole prefix, and answers null for what is not there', async () => {
    const small = path.join(dir, `small-${driver}.txt`);
    await fs.writeFile(small, 'x');
    for (const name of ['a.jpg', 'b.jpg', 'sub/c.json']) await storage.putFile(`outputs/job_${driver}4/${name}`, small);
    await storage.putFile(`outputs/job_${driver}5/keep.jpg`, small);
    expect(await storage.list(`outputs/job_${driver}4/`)).toEqual([
      `outputs/job_${driver}4/a.jpg`,
      `outputs/job_${driver}4/b.jpg`,
      `outputs/job_${driver}4/sub/c.json`,
    ]);

    await storage.delete(`outputs/job_${driver}4/a.jpg`);
    expect(await storage.stat(`outputs/job_${driver}4/a.jpg`)).toBeNull();
    await storage.deletePrefix(`outputs/job_${driver}4/`);
    expect(await storage.list(`outputs/job_${driver}4/`)).toEqual([]);
    expect(await storage.list(`outputs/job_${driver}5/`)).toEqual([`outputs/job_${driver}5/keep.jpg`]);

    expect(await storage.get(`outputs/job_${driver}4/b.jpg`)).toBeNull();
    await storage.delete(`outputs/job_${driver}4/b.jpg`); // deleting what is gone is no error
    await storage.deletePrefix(`outputs/job_${driver}4/`);
  });

  it('copies an object to another key, keeping the original', async () => {
    await storage.putFile(`tus/upl_${driver}6/data`, big);
    await storage.copy(`tus/upl_${driver}6/data`, `uploads/vid_${driver}6/source.mp4`, { contentType: 'video/mp4' });
    const copy = await storage.get(`uploads/vid_${driver}6/source.mp4`);
    expect(copy?.size).toBe((await fs.stat(big)).size);
    expect(
      createHash('sha256')
        .update(Buffer.concat(await copy!.body.toArray()))
        .digest('hex'),
    ).toBe(
      createHash('sha256')
        .update(await fs.readFile(big))
        .digest('hex'),
    );
    expect(await storage.stat(`tus/upl_${driver}6/data`)).toEqual({ size: (await fs.stat(big)).size });
    await storage.deletePrefix(`tus/upl_${driver}6/`);
    await storage.deletePrefix(`uploads/vid_${driver}6/`);
  });

  it('refuses keys that could leave its area', async () => {
    for (const key of ['../etc/passwd', 'uploads/../../x', 'other/x', 'uploads/a/../../b', 'uploads']) {
      await expect(storage.stat(key)).rejects.toThrow(/not a storage key/);
    }
  });
});

describe('the s3 driver', () => {
  /** Writes `data` to `file` in steps, telling `followed` after each, as an upload in progress does. */
  async function writeFollowed(followed: FollowedFile, file: string, data: Buffer, steps: number[]) {
    const handle = await fs.open(file, 'w');
    let at = 0;
    for (const end of [...steps, data.length]) {
      await handle.write(data.subarray(at, end), 0, end - at, at);
      at = end;
      followed.grow(at);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await handle.close();
    followed.end();
  }

  it('stores a file while it is written, part by part, or in one request when it is small', async () => {
    const storage = await createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-follow'), ...s3.env() }));
    try {
      const original = await fs.readFile(big); // 20 MB: two whole 8 MB parts and a last one
      const growing = path.join(dir, 'growing.bin');
      const followed = storage.followFile('uploads/vid_f1/source.mkv', growing, { contentType: 'video/x-matroska' })!;
      await writeFollowed(followed, growing, original, [3 << 20, 9 << 20, 17 << 20]);
      await followed.done();
      const object = await storage.get('uploads/vid_f1/source.mkv');
      expect(sha256(await readAll(object!.body))).toBe(sha256(original));

      const small = original.subarray(0, 3 << 20);
      const smallFile = path.join(dir, 'small-growing.bin');
      const one = storage.followFile('uploads/vid_f2/source.mkv', smallFile)!;
      await writeFollowed(one, smallFile, small, [1 << 20]);
      await one.done();
      expect(sha256(await readAll((await storage.get('uploads/vid_f2/source.mkv'))!.body))).toBe(sha256(small));
    } finally {
      storage.close();
    }
  });

  it('leaves no object when cancelled, whether its parts were in flight or it had landed already', async () => {
    const storage = await createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-follow'), ...s3.env() }));
    try {
      const original = await fs.readFile(big);
      const growing = path.join(dir, 'cancelled.bin');
      const midway = storage.followFile('uploads/vid_f3/source.mkv', growing)!;
      const handle = await fs.open(growing, 'w');
      await handle.write(original.subarray(0, 17 << 20), 0, 17 << 20, 0);
      await handle.close();
      midway.grow(17 << 20); // two parts go up
      await midway.cancel();
      await expect(midway.done()).rejects.toThrow(/cancelled/);

      const landed = storage.followFile('uploads/vid_f4/source.mkv', big)!;
      landed.grow(original.length);
      landed.end();
      await landed.done();
      expect(await storage.list('uploads/vid_f4/')).toEqual(['uploads/vid_f4/source.mkv']);
      await landed.cancel(); // refused after it was stored
      expect(await storage.list('uploads/vid_f3/')).toEqual([]);
      expect(await storage.list('uploads/vid_f4/')).toEqual([]);
      expect(await s3.openUploads()).toEqual([]); // the cancelled one's parts were aborted
    } finally {
      storage.close();
    }
  });

  it('fails as StorageUnavailableError when the bucket goes away mid-file', async () => {
    const storage = await createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-follow'), ...s3.env() }));
    try {
      const followed = storage.followFile('uploads/vid_f5/source.mkv', big)!;
      await s3.stop();
      followed.grow((await fs.stat(big)).size);
      followed.end();
      await expect(followed.done()).rejects.toThrow(StorageUnavailableError);
    } finally {
      await s3.start();
      storage.close();
    }
    const storage2 = await createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-follow'), ...s3.env() }));
    expect(await storage2.list('uploads/vid_f5/')).toEqual([]);
    storage2.close();
  });

  it('is not needed by the local driver, which renames a whole file into place', async () => {
    const storage = await createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-local-follow') }));
    expect(storage.followFile('uploads/vid_f6/source.mkv', big)).toBeNull();
    storage.close();
  });

  it('keeps every object under S3_PREFIX, and presigns URLs that download without credentials, ranges included', async () => {
    const storage = await createStorage(loadConfig({ DATA_DIR: path.join(dir, 'data-s3'), ...s3.env({ S3_PREFIX: 'tenant-b/' }) }));
    try {
      await storage.putFile('outputs/job_p1/poster.jpg', big, { contentType: 'image/jpeg' });
      expect(await s3.keys('tenant-b/')).toEqual(['tenant-b/outputs/job_p1/poster.jpg']);
      const url = await storage.presignedUrl('outputs/job_p1/poster.jpg', { expiresInSeconds: 60, contentType: 'image/jpeg' });
      const whole = await fetch(url!);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('image/jpeg');
      expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(await fs.readFile(big)));
      const ranged = await fetch(url!, { headers: { range: 'bytes=0-99' } });
      expect(ranged.status).toBe(206);
      expect((await ranged.arrayBuffer()).byteLength).toBe(100);
    } finally {
      storage.close();
    }
  });

  it('says which variable to fix when the bucket does not exist or the endpoint does not answer', async () => {
    const wrongBucket = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env({ S3_BUCKET: 'no-such-bucket' }) }));
    await expect(wrongBucket.check()).rejects.toThrow(StorageConfigError);
    await expect(wrongBucket.check()).rejects.toThrow(
      /^S3_BUCKET="no-such-bucket": no such bucket at http:\/\/127\.0\.0\.1:\d+\. Create it, or fix S3_BUCKET\.$/,
    );
    wrongBucket.close();
    const unreachable = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env({ S3_ENDPOINT: 'http://127.0.0.1:9' }) }));
    await expect(unreachable.check()).rejects.toThrow(/^S3_ENDPOINT="http:\/\/127\.0\.0\.1:9": .* cannot be reached \(ECONNREFUSED\)/);
    unreachable.close();
  });

  it('says which region to set when the bucket is in another one than S3_REGION, and starts with it', async () => {
    s3.bucketRegion = 'eu-west-1';
    const storages = [];
    try {
      const wrongRegion = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env() }));
      storages.push(wrongRegion);
      await expect(wrongRegion.check()).rejects.toThrow(StorageConfigError);
      await expect(wrongRegion.check()).rejects.toThrow(
        /^S3_REGION="us-east-1": bucket "vidq-test" is in eu-west-1 \(http:\/\/127\.0\.0\.1:\d+ answered 301\)\. Set S3_REGION=eu-west-1\.$/,
      );
      const rightRegion = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env({ S3_REGION: 'eu-west-1' }) }));
      storages.push(rightRegion);
      await rightRegion.check();
      await rightRegion.putFile('outputs/job_r1/poster.jpg', big, { contentType: 'image/jpeg' });
      expect(await s3.keys('outputs/job_r1/')).toEqual(['outputs/job_r1/poster.jpg']);
      await rightRegion.delete('outputs/job_r1/poster.jpg');
    } finally {
      s3.bucketRegion = null;
      for (const storage of storages) storage.close();
    }
  });

  it('says to set S3_FORCE_PATH_STYLE=true when the bucket, put into the host name, does not resolve', async () => {
    const endpoint = s3.endpoint.replace('127.0.0.1', 'localhost');
    const virtualHosted = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env({ S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'false' }) }));
    const pathStyle = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env({ S3_ENDPOINT: endpoint }) }));
    try {
      await expect(virtualHosted.check()).rejects.toThrow(
        'S3_FORCE_PATH_STYLE=false: the bucket goes into the host name, and vidq-test.localhost does not resolve. Set S3_FORCE_PATH_STYLE=true (MinIO and most S3-compatible servers want it), or give the server a wildcard DNS name.',
      );
      await pathStyle.check(); // the same server, with the default
    } finally {
      virtualHosted.close();
      pathStyle.close();
    }
  });

  it('says which variables to set when no credentials can be found, rather than that the server cannot be reached', async () => {
    // The AWS SDK's default chain, emptied as on a machine with no AWS set-up (and no instance to ask).
    const chain = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE'];
    const saved = { ...process.env };
    for (const name of chain) delete process.env[name];
    Object.assign(process.env, {
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
      AWS_CONFIG_FILE: path.join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    const { S3_ACCESS_KEY_ID: _key, S3_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = s3.env();
    const storage = await createStorage(loadConfig({ DATA_DIR: dir, ...withoutKeys }));
    try {
      await expect(storage.check()).rejects.toThrow(StorageConfigError);
      await expect(storage.check()).rejects.toThrow(
        'S3_ACCESS_KEY_ID="": no credentials to sign with for bucket "vidq-test": set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or the AWS SDK\'s own (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role).',
      );
    } finally {
      storage.close();
      for (const name of [...chain, 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it('is refused by the configuration without a bucket, with half a key pair, or with the bucket in S3_ENDPOINT', () => {
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET="": is required with STORAGE_DRIVER=s3/);
    expect(() => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k' })).toThrow(
      /S3_SECRET_ACCESS_KEY="": must be set together with its pair/,
    );
    expect(() => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'vidq', S3_ENDPOINT: 'http://minio:9000/vidq' })).toThrow(
      `S3_ENDPOINT="http://minio:9000/vidq": holds the bucket: give the server's address only (http://minio:9000); the bucket goes in S3_BUCKET`,
    );
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'vidq', S3_ENDPOINT: 'http://gateway:9000/s3' }).s3.endpoint).toBe('http://gateway:9000/s3');
    expect(() => loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'vidq', S3_ENDPOINT: 'not a url' })).toThrow(
      'S3_ENDPOINT="not a url": must be an http:// or https:// URL',
    );
  });
});
