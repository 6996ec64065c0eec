// The client kit's TypeScript SDK (clients/sdk) against a real vidq: resumable uploads through
// tus-js-client (across dropped connections and across processes), submitJob, follow() across dropped
// WebSockets without gaps, typed outputs, VidqError codes, a bad key over WebSocket, and verifyWebhook on
// a real delivery. A TCP proxy between SDK and server cuts the connections.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../../clients/sdk/src/errors';
import { createVidqClient, type ErrorCode, type JobEvent, verifyWebhook, VidqClient, VidqError } from '../../clients/sdk/src/index';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { makePng, makeVideo } from '../helpers/media';
import { freePort } from '../helpers/pg-urls';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

let app: TestApp;
let user: TestUser;
let proxy: TcpProxy;
let receiver: Receiver;
let dir: string;
let clip: string;
let clipSha: string;
let clipSize: number;

const CHUNK = 16 * 1024;
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
const direct = (apiKey = user.key) => createVidqClient({ url: app.url, apiKey });
const viaProxy = (apiKey = user.key) => createVidqClient({ url: `http://127.0.0.1:${proxy.port}`, apiKey });

let restored: Promise<void> = Promise.resolve();
/** Cuts every connection through the proxy and accepts new ones again after `ms` (then `restored` resolves). */
function dropConnections(ms: number) {
  proxy.cut();
  restored = new Promise((resolve) => setTimeout(() => resolve(proxy.restore()), ms));
}

async function caught(promise: Promise<unknown>): Promise<VidqError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VidqError);
  return error as VidqError;
}

beforeAll(async () => {
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails,transcode', PUBLIC_URL: '' } });
  user = await app.createUser({ credits: 1000 });
  proxy = await startTcpProxy('127.0.0.1', Number(new URL(app.url).port));
  receiver = await startReceiver();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-sdk-'));
  clip = await makeVideo(dir, { format: 'mp4', seconds: 3, audio: true, width: 1280, height: 720, name: 'clip' });
  clipSha = await sha256(clip);
  clipSize = (await fs.stat(clip)).size;
});
afterAll(async () => {
  await proxy?.close();
  await receiver?.close();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('SDK uploads', () => {
  it('report progress and resume after dropped connections without sending the file again', async () => {
    expect(clipSize).toBeGreaterThan(8 * CHUNK);
    const progress: number[] = [];
    let dropped = false;
    const before = proxy.bytesFromClients;
    const video = await viaProxy().upload(clip, {
      title: 'resumed',
      chunkSizeBytes: CHUNK,
      retryDelays: [100, 300, 1000],
      onProgress: (sent, total) => {
        expect(total).toBe(clipSize);
        progress.push(sent);
        if (!dropped && sent > clipSize * 0.6) {
          dropped = true;
          dropConnections(300);
        }
      },
    });
    expect(dropped).toBe(true);
    expect(video).toMatchObject({ title: 'resumed', format: 'mp4', sizeBytes: clipSize, sha256: clipSha });
    expect(video.id).toMatch(/^vid_/);
    expect(video.metadata.width).toBe(1280);
    expect(progress.at(-1)).toBe(clipSize);
    // Starting over would have sent 1.6× the file; resuming sends it once plus at most a chunk.
    const sent = proxy.bytesFromClients - before;
    expect(sent).toBeLessThan(clipSize + 2 * CHUNK + 16 * 1024);
  });

  it('resume in a later process from resumeFile, at the offset the first one reached', async () => {
    const resumeFile = path.join(dir, 'tus-uploads.json');
    const abort = new AbortController();
    let reached = 0;
    const first = direct()
      .upload(clip, {
        resumeFile,
        chunkSizeBytes: CHUNK,
        onProgress: (sent) => {
          reached = sent;
          if (sent > clipSize / 2) abort.abort(new Error('stopped by the test'));
        },
        signal: abort.signal,
      })
      .catch((e: Error) => e);
    expect(await first).toBeInstanceOf(Error);
    expect(reached).toBeGreaterThan(clipSize / 2);
    await new Promise((r) => setTimeout(r, 200)); // the aborted PATCH settles on the server

    const progress: number[] = [];
    const video = await direct().upload(clip, { resumeFile, chunkSizeBytes: CHUNK, onProgress: (sent) => progress.push(sent) });
    expect(video.sha256).toBe(clipSha);
    expect(Math.min(...progress)).toBeGreaterThanOrEqual(clipSize / 2 - CHUNK); // did not start again from zero
    expect(JSON.parse(await fs.readFile(resumeFile, 'utf8'))).toEqual({}); // forgotten once finished
  });

  it('name-less bytes need a filename; refusals come back as VidqError with vidq codes', async () => {
    const bytes = await fs.readFile(clip);
    expect((await caught(direct().upload(new Uint8Array(bytes)))).code).toBe('INVALID_INPUT');
    const video = await direct().upload(new Blob([bytes]), { filename: 'from-blob.mp4' });
    expect(video.sha256).toBe(clipSha);

    const text = path.join(dir, 'notes.txt');
    await fs.writeFile(text, 'not a video');
    const unsupported = await caught(direct().upload(text));
    expect(unsupported).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expect(unsupported.detail).toMatch(/txt/);

    const png = await makePng(dir);
    const disguised = path.join(dir, 'picture.mp4');
    await fs.copyFile(png, disguised);
    expect(await caught(direct().upload(disguised))).toMatchObject({ code: 'UNSUPPORTED_FORMAT', typename: 'UnsupportedFormatError' });

    expect(await caught(direct('vq_wrong_key_0000000000000000').upload(clip))).toMatchObject({ code: 'INVALID_API_KEY' });
  });

  it('a missing key is UNAUTHENTICATED over tus as over GraphQL; a wrong one INVALID_API_KEY', async () => {
    for (const apiKey of ['', '   ']) {
      const upload = await caught(direct(apiKey).upload(clip, { retryDelays: [] }));
      const graphql = await caught(direct(apiKey).submitJob({ videoId: 'vid_x' }));
      expect(graphql.code).toBe('UNAUTHENTICATED');
      expect(upload).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false, message: graphql.message });
    }
    const wrong = await caught(direct('vq_wrong_key_0000000000000000').upload(clip, { retryDelays: [] }));
    expect(wrong.code).toBe('INVALID_API_KEY');
    expect(wrong.message).toBe((await caught(direct('vq_wrong_key_0000000000000000').job('job_x'))).message);
    expect(wrong.detail).toMatch(/^Check the key sent in Authorization/); // what to do, not the message again
  });

  it("tus refusals read like GraphQL ones: the generic message, the server's text in detail, no tus-js-client dump", async () => {
    const text = path.join(dir, 'notes2.txt');
    await fs.writeFile(text, 'not a video');
    const tus = await caught(direct().upload(text, { retryDelays: [] }));
    // The same code over GraphQL (a disguised file checked after upload) has the catalogue's message.
    const png = await makePng(dir);
    const disguised = path.join(dir, 'picture2.mp4');
    await fs.copyFile(png, disguised);
    const graphql = await caught(direct().upload(disguised));
    expect(graphql.typename).toBe('UnsupportedFormatError');
    expect(tus).toMatchObject({ code: 'UNSUPPORTED_FORMAT', message: graphql.message, retryable: false, typename: null });
    expect(tus.message).toBe('The uploaded file format is not supported.');
    expect(tus.detail).toMatch(/\.txt/);
    for (const field of [tus.message, tus.detail]) expect(field).not.toMatch(/tus:|originated from request|response code/);
    expect(tus.cause).toBeInstanceOf(Error); // tus-js-client's own error, for debugging
    expect(String((tus.cause as Error).message)).toMatch(/^tus: /);

    const noKey = await caught(direct('').upload(clip, { retryDelays: [] }));
    expect(noKey.message).toBe('An API key is required.');
    expect(noKey.detail).toMatch(/^Send Authorization: Bearer/); // the server's text, without the message again
  });

  it("the SDK's message catalogue is the server's errorCatalog", async () => {
    const served = (await gql(app.url, user.key, '{ errorCatalog { code message retryable } }')).body.data.errorCatalog as Array<{
      code: ErrorCode;
      message: string;
      retryable: boolean;
    }>;
    expect(Object.fromEntries(served.map((e) => [e.code, { message: e.message, retryable: e.retryable }]))).toEqual(ERROR_MESSAGES);
  });
});

describe('SDK errors when nothing answers', () => {
  it('name the URL tried, the cause and what to check, for GraphQL, tus uploads and follow()', async () => {
    const url = `http://127.0.0.1:${await freePort()}`; // a closed port: nothing listens there
    const sdk = createVidqClient({ url, apiKey: user.key });
    try {
      const query = await caught(sdk.job('job_x'));
      expect(query).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
      expect(query.message).toContain(`Cannot reach vidq at ${url}/graphql: connection refused`);
      expect(query.message).toContain(`Is vidq running at ${url}? If it listens elsewhere, set the client's url option`);
      expect(query.detail).toMatch(/ECONNREFUSED/);

      const upload = await caught(sdk.upload(clip, { retryDelays: [] }));
      expect(upload).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
      expect(upload.message).toContain(`Cannot reach vidq at ${url}/uploads: connection refused`);
      expect(upload.message).toContain(`Is vidq running at ${url}?`);
      expect(upload.message).not.toMatch(/refused with HTTP/);

      const follow = await caught(
        (async () => {
          for await (const _ of sdk.follow('job_x', { maxReconnects: 0 })) void _;
        })(),
      );
      expect(follow.code).toBe('SERVICE_UNAVAILABLE');
      expect(follow.message).toContain(`Cannot reach vidq at ${url.replace('http:', 'ws:')}/graphql`);
    } finally {
      await sdk.close();
    }

    // A host that does not resolve (.invalid never does): the cause says so.
    const unknown = createVidqClient({ url: 'http://vidq.invalid:4000', apiKey: user.key });
    const dns = await caught(unknown.job('job_x'));
    expect(dns).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(dns.message).toMatch(/^Cannot reach vidq at http:\/\/vidq\.invalid:4000\/graphql: (host not found|DNS lookup failed) /);
  });

  it('a missing file is INVALID_INPUT naming it, before any request (not an unhandled stream error)', async () => {
    const missing = path.join(dir, 'no-such-clip.mp4');
    const error = await caught(direct().upload(missing));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toContain(missing);
    expect(error.detail).toBe('Check the path, and that this process may read the file.');
  });
});

describe('SDK jobs', () => {
  it('submit, follow across dropped WebSockets without gaps, read typed outputs, and verify the webhook', async () => {
    const sdk = viaProxy();
    try {
      const video = await direct().upload(clip);
      const job = await sdk.submitJob({ videoId: video.id, model: 'FAST', webhookUrl: `${receiver.url}/hook` });
      expect(job).toMatchObject({ status: 'QUEUED', video: { id: video.id }, options: { model: 'FAST', outputFormat: 'MP4' } });

      const events: JobEvent[] = [];
      let drops = 0;
      const connectionsBefore = proxy.connections;
      for await (const event of sdk.follow(job.id)) {
        events.push(event);
        if (event.type === 'STAGE_STARTED' && drops < 2) {
          drops += 1;
          dropConnections(400);
        }
      }
      expect(drops).toBe(2);
      expect(proxy.connections - connectionsBefore).toBeGreaterThanOrEqual(2); // reconnected (two drops close together may hit one socket)
      expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => i + 1)); // every event once, in order
      expect(events[0]).toMatchObject({ type: 'QUEUED', details: { __typename: 'JobQueuedDetails', stages: ['probe', 'thumbnails', 'transcode'] } });
      expect(events.at(-1)).toMatchObject({ type: 'COMPLETED', status: 'COMPLETED', progress: 1 });

      await restored;
      const output = await sdk.output(job.id);
      expect(output.transcode).toMatchObject({ format: 'MP4', codec: 'h264', height: 480, hasAlpha: false }); // FAST: at most 480p
      expect(output.probe?.width).toBe(1280);
      expect(output.thumbnails?.thumbnails.length).toBeGreaterThan(0);
      const video720 = output.files.find((f) => f.kind === 'video')!;
      const download = await fetch(video720.url);
      expect(download.status).toBe(200);
      expect(Number(download.headers.get('content-length'))).toBe(video720.sizeBytes);
      await download.arrayBuffer();

      // The job.completed delivery, checked with the SDK's verifyWebhook and the user's secret.
      const [delivery] = await receiver.waitFor(1, 15_000);
      const secret = (await gql(app.url, user.key, '{ viewer { webhookSecret } }')).body.data.viewer.webhookSecret as string;
      const event = verifyWebhook(secret, delivery.body, delivery.headers);
      expect(event.type).toBe('job.completed');
      if (event.type !== 'job.completed') throw new Error('unreachable');
      expect(event.data.job).toMatchObject({ id: job.id, status: 'COMPLETED', videoId: video.id });
      expect(event.data.job.output.files.map((f) => f.kind).sort()).toEqual(output.files.map((f) => f.kind).sort());
      const tampered = await caught(Promise.resolve().then(() => verifyWebhook(secret, delivery.body.replace('COMPLETED', 'FAILED'), delivery.headers)));
      expect(tampered.code).toBe('INVALID_INPUT');
      await expect(sdk.waitForJob(job.id)).resolves.toMatchObject({ id: job.id, status: 'COMPLETED' }); // replays to the end
    } finally {
      await sdk.close();
    }
  });

  it('a bad key over WebSocket fails at once with the reason, without retrying', async () => {
    const sdk = viaProxy('vq_wrong_key_0000000000000000');
    try {
      const before = proxy.connections;
      const started = Date.now();
      const error = await caught(
        (async () => {
          for await (const _ of sdk.follow('job_whatever')) void _;
        })(),
      );
      const elapsed = Date.now() - started;
      expect(error.code).toBe('INVALID_API_KEY');
      expect(error.message).toMatch(/unknown API key/);
      // At most one new connection (Node's WebSocket may reuse an idle keep-alive one): no retry loop.
      expect(proxy.connections - before).toBeLessThanOrEqual(1);
      expect(elapsed).toBeLessThan(2000); // the bound (graphql-ws's default retries took ~40 s)
    } finally {
      await sdk.close();
    }
  });

  it('answers error union members as VidqError with their stable code', async () => {
    const sdk = direct();
    expect(await caught(sdk.submitJob({ videoId: 'vid_nosuchvideo' }))).toMatchObject({ code: 'VIDEO_NOT_FOUND', typename: 'VideoNotFoundError' });
    expect(await caught(sdk.job('job_nosuchjob'))).toMatchObject({ code: 'JOB_NOT_FOUND', retryable: false });
    const invalid = await caught(sdk.submitJob({ videoId: 'vid_x', timeoutSeconds: -5 }));
    expect(invalid.code).toBe('INVALID_INPUT');
    expect(invalid.fieldErrors[0]?.path).toEqual(['input', 'timeoutSeconds']);
    expect(await caught(direct('vq_wrong_key_0000000000000000').job('job_x'))).toMatchObject({ code: 'INVALID_API_KEY' });
    const notFound = await caught(
      (async () => {
        for await (const _ of sdk.follow('job_nosuchjob')) void _;
      })(),
    );
    expect(notFound.code).toBe('JOB_NOT_FOUND');
    await sdk.close();
  });
});

describe('SDK limits', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ env: { ROLE: 'api', AUTH_MAX_FAILURES: '1', AUTH_FAILURE_WINDOW_SECONDS: '60', MAX_FILE_SIZE_MB: '1' } });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('RATE_LIMITED is retryable with retryAfterSeconds, over GraphQL and over tus alike', async () => {
    const wrong = createVidqClient({ url: limited.url, apiKey: 'vq_wrong_key_0000000000000000' });
    let graphql: VidqError | null = null;
    for (let i = 0; i < 5 && graphql?.code !== 'RATE_LIMITED'; i++) graphql = await caught(wrong.job('job_x'));
    expect(graphql).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(graphql!.retryAfterSeconds).toBeGreaterThan(0);
    expect(graphql!.retryAfterSeconds).toBeLessThanOrEqual(60);

    const tus = await caught(wrong.upload(clip, { retryDelays: [] }));
    expect(tus).toMatchObject({ code: 'RATE_LIMITED', retryable: true, message: 'Too many requests.' });
    expect(tus.retryAfterSeconds).toBeGreaterThan(0);
    expect(tus.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(tus.detail).toMatch(/Too many failed authentications/);
    // The same condition, the same error: the catalogue's message, the server's text in detail.
    expect(graphql!.message).toBe(tus.message);
    expect(graphql!.detail).toMatch(/^Too many failed authentications from this address: retry after \d+ seconds\.$/);
  });

  it('FILE_TOO_LARGE over tus carries maxBytes', async () => {
    const owner = await limited.createUser();
    const sdk = createVidqClient({ url: limited.url, apiKey: owner.key });
    const big = await caught(sdk.upload(new Uint8Array(1024 * 1024 + 1), { filename: 'big.mp4', retryDelays: [] }));
    expect(big).toMatchObject({ code: 'FILE_TOO_LARGE', maxBytes: 1024 * 1024, message: 'Uploaded file exceeds the maximum allowed size.' });
    expect(big.detail).toMatch(/MAX_FILE_SIZE_MB/);
  });
});

describe('SDK error fields and job control', () => {
  it('error members keep their extra fields: jobId/videoId, status, required/available', async () => {
    const sdk = direct();
    const video = await sdk.upload(clip);
    const job = await sdk.submitJob({ videoId: video.id, model: 'FAST' });
    try {
      const busy = await caught(sdk.submitJob({ videoId: video.id }));
      expect(busy).toMatchObject({ code: 'JOB_ALREADY_PROCESSING', typename: 'JobAlreadyProcessingError', jobId: job.id, videoId: video.id });
      const notComplete = await caught(sdk.output(job.id));
      expect(notComplete.code).toBe('JOB_NOT_COMPLETE');
      expect(['QUEUED', 'PROCESSING']).toContain(notComplete.status);
      expect(notComplete.retryAfterSeconds).toBeUndefined();

      const poor = await app.createUser({ credits: 0 });
      const poorSdk = direct(poor.key);
      const poorVideo = await poorSdk.upload(clip);
      const credits = await caught(poorSdk.submitJob({ videoId: poorVideo.id, model: 'PRO' }));
      expect(credits).toMatchObject({ code: 'INSUFFICIENT_CREDITS', available: 0 });
      expect(credits.required).toBeGreaterThan(0);
    } finally {
      await gql(app.url, user.key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: job.id });
      await sdk.close();
    }
  });

  it('cancelJob, retryJob, video and job without codegen; events typed by their type; request() with a plain string', async () => {
    const sdk = direct();
    try {
      const video = await sdk.upload(clip, { title: 'controlled' });
      await expect(sdk.video(video.id)).resolves.toMatchObject({ id: video.id, title: 'controlled', sha256: clipSha });
      expect(await caught(sdk.video('vid_nosuchvideo'))).toMatchObject({ code: 'VIDEO_NOT_FOUND', typename: 'VideoNotFoundError' });

      const job = await sdk.submitJob({ videoId: video.id, model: 'FAST' });
      const cancelled = await sdk.cancelJob(job.id);
      expect(cancelled).toMatchObject({ id: job.id, status: 'CANCELLED' });
      await expect(sdk.job(job.id)).resolves.toMatchObject({ status: 'CANCELLED' });
      expect(await caught(sdk.output(job.id))).toMatchObject({ code: 'JOB_NOT_COMPLETE', status: 'CANCELLED' });

      // The terminal event's details, typed by its type: who cancelled the job and in which status.
      const events: JobEvent[] = [];
      for await (const event of sdk.follow(job.id)) events.push(event);
      const last = events.at(-1)!;
      expect(last.type).toBe('CANCELLED');
      if (last.type !== 'CANCELLED') throw new Error('unreachable');
      expect(last.details.cancelledBy).toBe(user.id);
      expect(['QUEUED', 'PROCESSING']).toContain(last.details.wasStatus);
      const first = events[0];
      expect(first.type === 'QUEUED' && first.details.stages).toEqual(['probe', 'thumbnails', 'transcode']);

      const retried = await sdk.retryJob(job.id, { timeoutSeconds: 900 });
      expect(retried).toMatchObject({ id: job.id, status: 'QUEUED' });
      expect((await sdk.job(job.id)).timeoutSeconds).toBe(900);
      await expect(sdk.cancelJob(job.id)).resolves.toMatchObject({ status: 'CANCELLED' });
      expect(await caught(sdk.cancelJob('job_nosuchjob'))).toMatchObject({ code: 'JOB_NOT_FOUND' });
      expect(await caught(sdk.retryJob('job_nosuchjob'))).toMatchObject({ code: 'JOB_NOT_FOUND' });

      // The escape hatch takes a plain GraphQL string too.
      const raw = await sdk.request<{ video: { __typename: string; id?: string } }>('query V($id: ID!) { video(id: $id) { __typename ... on Video { id } } }', {
        id: video.id,
      });
      expect(raw.video).toEqual({ __typename: 'Video', id: video.id });
    } finally {
      await sdk.close();
    }
  });
});

describe('verifyWebhook', () => {
  const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' };
  const secret = `whsec_${Buffer.from('a secret of thirty-two bytes....').toString('base64')}`;

  it('throws VidqError INVALID_INPUT for a malformed secret, not a plain Error', () => {
    for (const bad of ['whsec_not base64!!', '%%%', '']) {
      let error: unknown;
      try {
        verifyWebhook(bad, '{}', headers);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(VidqError);
      expect(error).toMatchObject({ code: 'INVALID_INPUT' });
      expect((error as VidqError).message).toMatch(/secret/);
    }
  });

  it('throws VidqError INVALID_INPUT explaining the raw body when given parsed JSON', () => {
    let error: unknown;
    try {
      verifyWebhook(secret, { type: 'job.completed' } as never, headers);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VidqError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT' });
    expect((error as VidqError).message).toContain('pass the raw request body (string or Buffer), not the parsed JSON');
    expect((error as VidqError).message).toContain("express.raw({ type: 'application/json' })");
    // A Buffer (express.raw) is a raw body: its signature is checked (and here refused).
    expect(() => verifyWebhook(secret, Buffer.from('{}'), headers)).toThrow(/Not a genuine vidq webhook/);
  });
});

describe('SDK documentation', () => {
  it('index.ts points at a README that exists and documents every client method', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const index = await fs.readFile(path.join(root, 'clients/sdk/src/index.ts'), 'utf8');
    const pointers = [...index.matchAll(/See ([\w/.-]+\.md)/g)].map((m) => m[1]);
    expect(pointers.length).toBeGreaterThan(0);
    for (const pointer of pointers) await expect(fs.access(path.join(root, pointer))).resolves.toBeUndefined();
    const readme = await fs.readFile(path.join(root, 'clients/sdk/README.md'), 'utf8');
    const methods = Object.getOwnPropertyNames(VidqClient.prototype).filter((m) => m !== 'constructor');
    for (const method of methods) expect(readme, method).toContain(`${method}(`);
    for (const field of ['required', 'available', 'jobId', 'videoId', 'status', 'offset', 'length', 'maxBytes', 'retryAfterSeconds'])
      expect(readme, field).toContain(field);
    const pkg = JSON.parse(await fs.readFile(path.join(root, 'clients/sdk/package.json'), 'utf8'));
    expect(pkg.files).toContain('README.md');
  });
});
