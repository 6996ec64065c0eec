// A real S3-protocol server for tests (s3rver, on its own directory and a free port), with one bucket,
// and the environment that points vidq at it. s3rver has no AbortMultipartUpload (it answers 405, see
// DESIGN.md); this server answers it as S3 does, so that a test can see an aborted upload's parts go.
// It can also place its bucket in a region, and refuse requests signed for another as AWS does.
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A request the server answered: what a test can check of a request whose effect s3rver cannot show. */
export interface S3Request {
  method: string;
  /** Path and query, e.g. `/vidq-test/uploads/vid_x/source.mkv?uploadId=…`. */
  url: string;
  status: number;
  /** Its x-amz-content-sha256 header: the payload's SHA-256 when signed, `UNSIGNED-PAYLOAD` when not. */
  contentSha256?: string;
  /** Its x-amz-copy-source header: a CopyObject's source, `bucket/key`. */
  copySource?: string;
}

export interface TestS3 {
  endpoint: string;
  bucket: string;
  port: number;
  /** Every request answered since the start, in order. */
  requests: S3Request[];
  /** STORAGE_DRIVER=s3 and the S3_* variables for this server. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Every key in the bucket under `prefix` (S3_PREFIX included). */
  keys(prefix?: string): Promise<string[]>;
  /** An object's bytes. */
  read(key: string): Promise<Buffer>;
  /** The ids of the multipart uploads whose parts the server holds: begun, neither completed nor aborted. */
  openUploads(): Promise<string[]>;
  /** Answer AbortMultipartUpload with s3rver's own 405, as a bucket that refuses it would. */
  refuseAborts: boolean;
  /**
   * The bucket's region, when set: a request signed for another is refused as AWS refuses it, naming
   * the bucket's region in `x-amz-bucket-region` (HeadBucket: 301 and no body; others: 400
   * AuthorizationHeaderMalformed). Null (the default): any region is accepted, as s3rver does.
   */
  bucketRegion: string | null;
  /**
   * Holds every request whose method and path (bucket and key, no query) match until the returned
   * function is called: a bucket slow to take one object.
   */
  hold(method: string, path: string): () => void;
  /** Stops the server (keeping its data) until start() runs it again on the same port: an outage. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface S3Options {
  /** Serve https with this key and certificate (the helper's own client trusts the certificate). */
  tls?: { key: Buffer; cert: Buffer };
}

/** The user agent of the helper's own client, which a bucket placed in a region lets through. */
const HELPER_AGENT = 'vidq-test-helper';

export async function startS3(bucket = 'vidq-test', options: S3Options = {}): Promise<TestS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-s3-'));
  // Where s3rver's store keeps a multipart upload until it completes: <id>/key, then one file per part.
  const uploadsDir = path.join(directory, bucket, '._S3rver_uploads');
  const requests: S3Request[] = [];
  let refuseAborts = false;
  let bucketRegion: string | null = null;
  const held: Array<{ method: string; path: string; gate: Promise<void> }> = [];
  const make = (port: number) => {
    const server = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket, configs: [] }],
      ...options.tls,
    });
    // s3rver is a Koa app: a middleware put first sees every request; a refusal is thrown (an S3Error
    // with its status) and answered by the app's error handler.
    server.middleware.unshift(async (ctx, next) => {
      let status = 500;
      try {
        await next();
        status = ctx.status;
      } catch (error) {
        status = (error as { status?: number }).status ?? 500;
        throw error;
      } finally {
        requests.push({
          method: ctx.method,
          url: ctx.url,
          status,
          contentSha256: ctx.get('x-amz-content-sha256') || undefined,
          copySource: ctx.get('x-amz-copy-source') || undefined,
        });
      }
    });
    server.middleware.splice(1, 0, async (ctx, next) => {
      await Promise.all(held.filter((h) => h.method === ctx.method && h.path === ctx.path).map((h) => h.gate));
      return next();
    });
    // AbortMultipartUpload (DELETE /bucket/key?uploadId=…), as S3 answers it: 204 once the upload's parts
    // are removed, 404 NoSuchUpload for an upload the server does not hold under that key.
    server.middleware.splice(1, 0, async (ctx, next) => {
      const uploadId = ctx.query.uploadId;
      if (ctx.method !== 'DELETE' || typeof uploadId !== 'string' || refuseAborts) return next();
      const upload = path.join(uploadsDir, path.basename(uploadId));
      const key = decodeURIComponent(ctx.path.slice(`/${bucket}/`.length));
      if ((await fs.readFile(path.join(upload, 'key'), 'utf8').catch(() => null)) !== key) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${uploadId}</UploadId></Error>`;
        return;
      }
      // A part still arriving (from a process killed mid-put) may add a file while the folder is being
      // removed: S3 aborts all the same, so try again rather than answer 500.
      for (let tries = 1; ; tries++) {
        try {
          await fs.rm(upload, { recursive: true, force: true });
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || tries === 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      ctx.status = 204;
    });
    // A request signed for a region other than the bucket's (the region is the third field of the
    // credential scope, in the Authorization header or a presigned URL's X-Amz-Credential).
    server.middleware.splice(1, 0, async (ctx, next) => {
      const credential = /Credential=([^,]+)/.exec(ctx.get('authorization'))?.[1] ?? ctx.query['X-Amz-Credential'];
      const signedFor = typeof credential === 'string' ? credential.split('/')[2] : undefined;
      const ownClient = ctx.get('user-agent').includes(HELPER_AGENT); // the test's own view of the bucket
      if (!bucketRegion || !signedFor || signedFor === bucketRegion || ownClient) return next();
      ctx.set('x-amz-bucket-region', bucketRegion);
      if (ctx.method === 'HEAD') {
        ctx.status = 301;
        return;
      }
      ctx.status = 400;
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region '${signedFor}' is wrong; expecting '${bucketRegion}'</Message><Region>${bucketRegion}</Region></Error>`;
    });
    return server;
  };
  let server = make(0);
  const { port } = (await server.run()) as { port: number };
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const client = new S3Client({
    requestHandler: options.tls ? { httpsAgent: new https.Agent({ ca: options.tls.cert }) } : undefined,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    customUserAgent: HELPER_AGENT,
  });
  let running = true;
  return {
    endpoint,
    bucket,
    port,
    requests,
    env: (extra = {}) => ({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      ...extra,
    }),
    async keys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) keys.push(object.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    async openUploads() {
      return (await fs.readdir(uploadsDir).catch(() => [])).sort();
    },
    get refuseAborts() {
      return refuseAborts;
    },
    set refuseAborts(refuse: boolean) {
      refuseAborts = refuse;
    },
    get bucketRegion() {
      return bucketRegion;
    },
    set bucketRegion(region: string | null) {
      bucketRegion = region;
    },
    hold(method, path) {
      let release!: () => void;
      const hold = { method, path, gate: new Promise<void>((resolve) => (release = resolve)) };
      held.push(hold);
      return () => {
        held.splice(held.indexOf(hold), 1);
        release();
      };
    },
    async stop() {
      if (!running) return;
      running = false;
      await server.close();
    },
    async start() {
      if (running) return;
      server = make(port);
      await server.run();
      running = true;
    },
    async close() {
      client.destroy();
      if (running) await server.close();
      running = false;
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
