// Resumable (tus) uploads with STORAGE_DRIVER=s3 against the same upload kept on the API's disk
// (STORAGE_DRIVER=local), in the same run, on the same file:
//
//   npx tsx bench/tus-s3.ts [--size-mb 200] [--rounds 3] [--rate-mb 50]
//
// Two `vidq serve --role api` processes (one per driver) share one database (embedded, or DATABASE_URL);
// s3rver runs in its own process. Each round creates an upload on each server and sends the whole file
// in one PATCH, in alternating order. Reported, medians: the time from the first byte to the PATCH's
// answer, the time from the last byte to that answer (s3: the bucket takes what is left, then it is
// recorded; local: nothing), and createVideoFromUpload's time. The ratio is local / s3 for the upload.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveBinaries } from '../src/pipeline/binaries';
import { benchDatabase } from './lib/database';
import { makeBigVideo } from './lib/media';
import { median } from './lib/load';
import { type Child, freePort, runBench, runNode, spawnNode, waitFor } from './lib/process';
import { startS3Process } from './lib/s3';

const { values } = parseArgs({ options: { 'size-mb': { type: 'string' }, rounds: { type: 'string' }, 'rate-mb': { type: 'string' } } });
const sizeMb = Number(values['size-mb'] ?? process.env.BENCH_UPLOAD_MB ?? 200);
const rounds = Number(values.rounds ?? process.env.BENCH_ROUNDS ?? 3);
/** The client's pace in MB/s (a network slower than loopback); unset: as fast as loopback goes. */
const rateMb = values['rate-mb'] ? Number(values['rate-mb']) : null;

const children: Child[] = [];
let cleanup: Array<() => Promise<unknown>> = [];

interface Timing {
  uploadMs: number;
  afterLastByteMs: number;
  createMs: number;
}

/** Creates an upload and sends `file` in one PATCH; times it from the first byte. */
async function tusUpload(url: string, key: string, file: string, size: number): Promise<{ id: string; uploadMs: number; afterLastByteMs: number }> {
  const auth = { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${key}` };
  const created = await fetch(`${url}/uploads`, {
    method: 'POST',
    headers: { ...auth, 'Upload-Length': String(size), 'Upload-Metadata': `filename ${Buffer.from('bench.mkv').toString('base64')}` },
  });
  if (created.status !== 201) throw new Error(`creating the upload answered ${created.status}: ${await created.text()}`);
  const location = created.headers.get('location')!;
  const started = performance.now();
  let lastByte = 0;
  const req = http.request(location, {
    method: 'PATCH',
    headers: { ...auth, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(size) },
  });
  // 'finish' (the last byte handed to the kernel) can come after the answer, which is then ~0 ms after it.
  const finished = once(req, 'finish').then(() => (lastByte = performance.now()));
  let answered = 0;
  const answer = (once(req, 'response') as Promise<[http.IncomingMessage]>).then((r) => ((answered = performance.now()), r));
  if (rateMb === null) createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(req);
  else {
    let sent = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      if (!req.write(chunk)) await once(req, 'drain');
      sent += chunk.length;
      const due = started + (sent / (rateMb * 1024 * 1024)) * 1000 - performance.now();
      if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
    }
    req.end();
  }
  const [[res]] = await Promise.all([answer, finished]);
  res.resume();
  if (res.statusCode !== 204) throw new Error(`the PATCH answered ${res.statusCode}`);
  return { id: location.split('/').pop()!, uploadMs: answered - started, afterLastByteMs: Math.max(0, answered - lastByte) };
}

async function createVideo(url: string, key: string, uploadId: string): Promise<{ ms: number; videoId: string }> {
  const started = performance.now();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query:
        'mutation($id: ID!) { createVideoFromUpload(input: { uploadId: $id }) { __typename ... on UploadVideoSuccess { video { id } } ... on Error { code message } } }',
      variables: { id: uploadId },
    }),
  });
  const ms = performance.now() - started;
  const answer = (await res.json()).data?.createVideoFromUpload;
  if (answer?.__typename !== 'UploadVideoSuccess') throw new Error(`createVideoFromUpload: ${JSON.stringify(answer)}`);
  return { ms, videoId: answer.video.id };
}

async function deleteVideo(url: string, key: string, id: string): Promise<void> {
  await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: 'mutation($id: ID!) { deleteVideo(id: $id) { __typename } }', variables: { id } }),
  });
}

async function main(): Promise<boolean> {
  const db = await benchDatabase();
  cleanup.push(() => db.close());
  const s3 = await startS3Process();
  cleanup.push(() => s3.close());

  // A valid video of about sizeMb: uncompressed 1280x720 frames in Matroska, made at disk speed.
  const file = path.join(db.dataDir, 'bench.mkv');
  await makeBigVideo(file, sizeMb, resolveBinaries({ ffmpegPath: undefined, ffprobePath: undefined }).ffmpeg);
  const size = (await fs.stat(file)).size;
  console.log(`file: ${(size / 1024 / 1024).toFixed(1)} MB rawvideo 1280x720 in Matroska; s3rver at ${s3.endpoint} (its own process)`);
  console.log(`client: ${rateMb === null ? 'as fast as loopback goes' : `paced at ${rateMb} MB/s`}`);

  const common = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn', MAX_FILE_SIZE_MB: String(sizeMb + 64) };
  const cli = async (...args: string[]) => JSON.parse(await runNode(['bin/vidq.js', ...args, '--json'], common));
  const user = await cli('users', 'create', '--name', 'bench');
  const { key } = await cli('keys', 'create', '--user', user.id);

  const servers: Record<'local' | 's3', string> = { local: '', s3: '' };
  for (const driver of ['local', 's3'] as const) {
    const port = await freePort();
    const env = {
      ...common,
      PORT: String(port),
      DATA_DIR: path.join(db.dataDir, driver),
      ...(driver === 's3'
        ? { STORAGE_DRIVER: 's3', S3_ENDPOINT: s3.endpoint, S3_BUCKET: s3.bucket, S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' }
        : {}),
    };
    children.push(spawnNode(['bin/vidq.js', 'serve', '--role', 'api'], { env, stdout: 'ignore' }));
    servers[driver] = `http://127.0.0.1:${port}`;
    await waitFor(`vidq (${driver}) to serve`, async () => ((await fetch(`${servers[driver]}/health`)).ok ? true : null));
  }

  const timings: Record<'local' | 's3', Timing[]> = { local: [], s3: [] };
  for (let round = 0; round < rounds; round++) {
    for (const driver of round % 2 ? (['s3', 'local'] as const) : (['local', 's3'] as const)) {
      const upload = await tusUpload(servers[driver], key, file, size);
      const made = await createVideo(servers[driver], key, upload.id);
      timings[driver].push({ uploadMs: upload.uploadMs, afterLastByteMs: upload.afterLastByteMs, createMs: made.ms });
      console.log(
        `round ${round + 1} ${driver}: upload ${upload.uploadMs.toFixed(0)} ms (${upload.afterLastByteMs.toFixed(0)} ms after the last byte), createVideoFromUpload ${made.ms.toFixed(0)} ms`,
      );
      await deleteVideo(servers[driver], key, made.videoId); // frees the disk and the bucket for the next round
    }
  }

  const p50 = (driver: 'local' | 's3', field: keyof Timing) => median(timings[driver].map((t) => t[field]));
  console.log('\n| driver | upload, first byte to the answer | after the last byte | createVideoFromUpload |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const driver of ['local', 's3'] as const) {
    console.log(
      `| ${driver} | ${p50(driver, 'uploadMs').toFixed(0)} ms | ${p50(driver, 'afterLastByteMs').toFixed(0)} ms | ${p50(driver, 'createMs').toFixed(0)} ms |`,
    );
  }
  console.log(`\nupload ratio local / s3: ${(p50('local', 'uploadMs') / p50('s3', 'uploadMs')).toFixed(2)}`);
  return true;
}

runBench(main, async () => {
  await Promise.all(children.map((child) => child.stop()));
  for (const step of cleanup.reverse()) await step().catch(() => {});
  cleanup = [];
});
