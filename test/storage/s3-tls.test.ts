// An S3-compatible server behind TLS with a certificate of its own, as a MinIO on a LAN often is: vidq
// refuses to start until Node is given the certificate (saying how), then stores uploads over https.
// An https URL for a plain-http port is refused at start too, saying which to change.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { ffmpeg } from '../helpers/media';
import { freePort } from '../helpers/pg-urls';
import { killAllVidq, spawnVidq, untilServing } from '../helpers/processes';
import { startS3, type TestS3 } from '../helpers/s3';
import { selfSignedCertificate, type Certificate } from '../helpers/tls';
import { result, upload } from '../helpers/upload';

let dir: string;
let certificate: Certificate;
let s3: TestS3;
let app: TestApp;
let user: TestUser;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-s3-tls-'));
  certificate = await selfSignedCertificate(dir);
  s3 = await startS3('vidq-tls', { tls: certificate });
  app = await startTestApp({ env: { ROLE: 'worker' } }); // its database; the API process is spawned below
  user = await app.createUser();
});
afterAll(async () => {
  await killAllVidq();
  await app?.close();
  await s3?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function apiProcess(extra: Record<string, string> = {}) {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(dir, 'data-'));
  const proc = spawnVidq(['serve', '--role', 'api'], {
    DATABASE_URL: app.database.url,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...s3.env(),
    ...extra,
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

describe('a bucket served over https', () => {
  it('stops `vidq serve` at start, naming S3_ENDPOINT and saying to give Node the certificate', async () => {
    const { proc } = await apiProcess();
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toContain(`S3_ENDPOINT="${s3.endpoint}": ${s3.endpoint} answers, but its TLS certificate is not trusted (`);
    expect(proc.output()).toContain('start vidq with NODE_EXTRA_CA_CERTS=');
    expect(proc.output()).not.toMatch(/\n\s+at /); // one line, no stack trace
  });

  it('stops `vidq serve` at start, naming S3_ENDPOINT, when the URL says https for a port that speaks http', async () => {
    const plain = await startS3('vidq-plain');
    try {
      const endpoint = plain.endpoint.replace('http://', 'https://');
      const { proc } = await apiProcess({ ...plain.env(), S3_ENDPOINT: endpoint });
      expect(await proc.exited).toBe(1);
      expect(proc.output()).toContain(
        `S3_ENDPOINT="${endpoint}": ${endpoint} answers, but it does not speak TLS on that port (EPROTO): use http:// in S3_ENDPOINT`,
      );
      expect(proc.output()).not.toMatch(/\n\s+at /);
    } finally {
      await plain.close();
    }
  });

  it('with NODE_EXTRA_CA_CERTS, puts an upload into the bucket over https, its parts unsigned (TLS guards them)', async () => {
    const { proc, url } = await apiProcess({ NODE_EXTRA_CA_CERTS: certificate.certPath });
    await untilServing(proc, url);
    // 23 MB: three parts of a multipart upload.
    const clip = path.join(dir, 'big.mkv');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=s=640x480:r=25', '-t', '2', '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', clip]);
    const answer = result(await upload({ url }, user.key, { file: clip }));
    expect(answer.__typename).toBe('UploadVideoSuccess');
    const key = `uploads/${answer.video.id}/source.mkv`;
    expect(await s3.keys(`uploads/${answer.video.id}/`)).toEqual([key]);
    expect(
      createHash('sha256')
        .update(await s3.read(key))
        .digest('hex'),
    ).toBe(answer.video.sha256);
    const parts = s3.requests.filter((r) => r.method === 'PUT' && r.url.startsWith(`/vidq-tls/${key}?`));
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(part.contentSha256).toBe('UNSIGNED-PAYLOAD');
  });
});
