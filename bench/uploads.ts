// Upload throughput and memory: one large, valid video uploaded through vidq's uploadVideo and through
// a bare node:http server that pipes the request body to a file — same run, same disk, same client.
// Also, for reference, a node:http server running only graphql-upload-ts's processRequest (its
// fs-capacitor buffer in os.tmpdir(), then a copy to the destination), to show what that buffer costs.
//
//   npx tsx bench/uploads.ts                    # 1024 MB, 3 rounds
//   npx tsx bench/uploads.ts --size-mb 200 --rounds 1
//   BENCH_UPLOAD_MB=200 BENCH_ROUNDS=1 npx tsx bench/uploads.ts
//   BENCH_ONLY=bare,vidq …                       # a subset; BENCH_KEEP=1 keeps the work dir
//   BENCH_CODEC=h264 …                           # H.264 at 80 Mbit/s in MP4 (moov at the end) instead of rawvideo
//   BENCH_CODEC=h264-faststart …                 # the same with its moov first (the head is checked while it arrives)
//   BENCH_STORAGE=s3 …                           # vidq with STORAGE_DRIVER=s3 against s3rver
//
// Besides throughput it reports, for each upload, the time from the client's last byte to the answer
// (after-last-byte latency): what the checks that run only once the whole file is there cost. Each round
// also times those checks alone on the finished file (probeAndVerify, no upload around it): the floor
// of that latency on this machine for an MP4 with its moov at the end. A moov-first MP4's tail is
// decoded while its last second arrives (src/uploads/early-tail.ts), so its answer can come sooner.
//
// Each server runs in a child process; its peak RSS comes from /proc/<pid>/status (VmHWM, reset via
// clear_refs after a warm-up upload). Targets: vidq/bare throughput ≥ 0.7, vidq peak RSS increase < 100 MB.
// With no DATABASE_URL an embedded PostgreSQL is started in a temp directory.
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeFfmpeg } from './lib/ffmpeg-info';
import { makeBigH264, makeBigVideo } from './lib/media';
import { startS3Process } from './lib/s3';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const self = fileURLToPath(import.meta.url);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// ───────────────────────────── servers (child processes) ─────────────────────────────

/** Children stop when told to, or when the parent goes away (IPC disconnects). */
function exitWithParent(close: () => Promise<void> = async () => {}) {
  const stop = () => void close().finally(() => process.exit(0));
  process.on('message', (m) => m === 'stop' && stop());
  process.on('disconnect', stop);
}

type Ready = { port: number; key?: string };

async function serveBare(dest: string) {
  exitWithParent();
  const server = http.createServer((req, res) => {
    pipeline(req, createWriteStream(dest))
      .then(() => res.end('{"ok":true}'))
      .catch((err) => res.writeHead(500).end(String(err)));
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port } satisfies Ready));
}

async function serveCapacitor(dest: string, maxBytes: number) {
  exitWithParent();
  const { processRequest } = await import('graphql-upload-ts');
  const server = http.createServer(async (req, res) => {
    try {
      const ops = (await processRequest(req, res, { maxFileSize: maxBytes + 1 })) as any;
      const file = await ops.variables.input.file.promise;
      await pipeline(file.createReadStream({ highWaterMark: 256 * 1024 }), createWriteStream(dest, { highWaterMark: 256 * 1024 }));
      res.end('{"ok":true}');
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port } satisfies Ready));
}

async function serveVidq(databaseUrl: string, dataDir: string, maxMb: number) {
  const { loadConfig } = await import('../src/config');
  const { createLogger } = await import('../src/logger');
  const { startRuntime } = await import('../src/runtime');
  const { startApi } = await import('../src/server/app');
  const { createUser } = await import('../src/auth/users');
  const { createApiKey } = await import('../src/auth/keys');
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    ROLE: 'api',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    MAX_FILE_SIZE_MB: String(maxMb),
    ...(process.env.BENCH_S3_ENDPOINT
      ? {
          STORAGE_DRIVER: 's3',
          S3_ENDPOINT: process.env.BENCH_S3_ENDPOINT,
          S3_BUCKET: process.env.BENCH_S3_BUCKET!,
          S3_ACCESS_KEY_ID: 'S3RVER',
          S3_SECRET_ACCESS_KEY: 'S3RVER',
        }
      : {}),
  });
  const runtime = await startRuntime(config, createLogger(config.logLevel, { bench: true }));
  const api = await startApi(runtime.services, { port: 0, host: '127.0.0.1' });
  const user = await createUser(runtime.services.database.db, { name: 'bench', credits: 0 });
  const key = await createApiKey(runtime.services.database.db, user.id);
  exitWithParent(async () => {
    await api.close();
    await runtime.close();
  });
  process.send!({ port: api.port, key: key.key } satisfies Ready);
}

// ───────────────────────────── client side ─────────────────────────────

const MUTATION = `mutation Upload($input: UploadVideoInput!) { uploadVideo(input: $input) {
  __typename ... on UploadVideoSuccess { video { id sizeBytes sha256 } } ... on Error { code detail } } }`;

/** Streams `file` as a GraphQL multipart upload; resolves with the elapsed ms and the answer. */
async function postUpload(port: number, key: string | undefined, file: string, filename: string) {
  const boundary = `vidqBench${Date.now()}`;
  const operations = JSON.stringify({ query: MUTATION, variables: { input: { file: null } } });
  const part = (name: string, value: string) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    part('operations', operations) +
      part('map', JSON.stringify({ 0: ['variables.input.file'] })) +
      `--${boundary}\r\ncontent-disposition: form-data; name="0"; filename="${filename}"\r\ncontent-type: video/x-matroska\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = (await stat(file)).size;
  const started = process.hrtime.bigint();
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/graphql',
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + size + tail.length,
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
  });
  const answered = new Promise<string>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    });
  });
  req.write(head);
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), req, { end: false });
  let lastByte = 0n;
  req.end(tail, () => (lastByte = process.hrtime.bigint())); // the last byte handed to the kernel
  const text = await answered;
  const answeredAt = process.hrtime.bigint();
  return { ms: Number(answeredAt - started) / 1e6, afterLastByteMs: Number(answeredAt - (lastByte || answeredAt)) / 1e6, text };
}

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(Vm\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Resets VmHWM to the current RSS (Linux clear_refs "5"); false when the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

async function start(mode: string, env: Record<string, string>): Promise<{ child: ChildProcess; ready: Ready }> {
  const prof = process.env.BENCH_CPU_PROF && mode === '--serve-vidq' ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = fork(self, [mode], { execArgv: ['--import', 'tsx', ...prof], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [ready] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${mode} server exited with ${code} before it was ready`);
    }),
  ])) as [Ready];
  return { child, ready };
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  if (child.connected) child.send('stop');
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => (bytes / MiB).toFixed(1);

async function main() {
  const sizeMb = Number(arg('size-mb') ?? process.env.BENCH_UPLOAD_MB ?? 1024);
  const rounds = Number(arg('rounds') ?? process.env.BENCH_ROUNDS ?? 3);
  const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'vidq-bench-uploads-'));
  await chmod(work, 0o777); // embedded PostgreSQL runs as another user when we are root
  const capacitorTmp = path.join(work, 'os-tmp');
  await mkdir(capacitorTmp);
  const { resolveBinaries } = await import('../src/pipeline/binaries');
  const { probeAndVerify } = await import('../src/pipeline/probe');
  const { ffmpeg, ffprobe } = resolveBinaries({ ffmpegPath: undefined, ffprobePath: undefined });
  const { df } = await run('df', ['-h', '--output=source,fstype,size', work]).then((r) => ({ df: r.stdout.trim().split('\n').pop() }));

  let stopPg = async () => {};
  let stopS3 = async () => {};
  let databaseUrl = process.env.DATABASE_URL;
  const children: ChildProcess[] = [];
  try {
    if (!databaseUrl) {
      const { startEmbeddedPostgres } = await import('../src/db/embedded');
      const { createLogger } = await import('../src/logger');
      const port = await new Promise<number>((resolve) => {
        const s = http.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as AddressInfo).port;
          s.close(() => resolve(p));
        });
      });
      const pg = await startEmbeddedPostgres({ dir: path.join(work, 'pg'), port, log: createLogger('silent') });
      databaseUrl = pg.url;
      stopPg = () => pg.stop();
    }

    const faststart = process.env.BENCH_CODEC === 'h264-faststart';
    const h264 = process.env.BENCH_CODEC === 'h264' || faststart;
    const video = path.join(work, h264 ? 'big.mp4' : 'big.mkv');
    const small = path.join(work, 'warmup.mkv');
    let t = Date.now();
    await (h264 ? makeBigH264(video, sizeMb, ffmpeg, faststart) : makeBigVideo(video, sizeMb, ffmpeg));
    await makeBigVideo(small, 1, ffmpeg);
    const size = (await stat(video)).size;
    const kind = h264 ? `H.264 1280x720 at 80 Mbit/s in MP4 (moov ${faststart ? 'first' : 'at the end'})` : 'rawvideo 1280x720 in Matroska';
    console.log(`file: ${mb(size)} MB ${kind}, made in ${((Date.now() - t) / 1000).toFixed(1)} s; work dir ${work} (${df})`);
    console.log(`ffmpeg: ${await describeFfmpeg(ffmpeg)}`);
    let s3: { endpoint: string; bucket: string } | null = null;
    if (process.env.BENCH_STORAGE === 's3') {
      const server = await startS3Process();
      s3 = server;
      stopS3 = () => server.close();
      console.log(`vidq storage: s3 (s3rver at ${s3.endpoint}, its own process)`);
    }

    const bareDest = path.join(work, 'bare.out');
    const capDest = path.join(work, 'capacitor.out');
    const dataDir = path.join(work, 'data');
    const env = { TMPDIR: capacitorTmp };
    const only = process.env.BENCH_ONLY?.split(',');
    const servers: Record<string, Awaited<ReturnType<typeof start>>> = {};
    const variants: [string, string, Record<string, string>][] = [
      ['bare', '--serve-bare', { BENCH_DEST: bareDest }],
      ['processRequest (capacitor)', '--serve-capacitor', { BENCH_DEST: capDest, BENCH_MAX: String(size) }],
      [
        'vidq',
        '--serve-vidq',
        {
          BENCH_DB: databaseUrl,
          BENCH_DATA: dataDir,
          BENCH_MAX_MB: String(sizeMb + 16),
          ...(s3 ? { BENCH_S3_ENDPOINT: s3.endpoint, BENCH_S3_BUCKET: s3.bucket } : {}),
        },
      ],
    ];
    for (const [name, mode, extra] of variants) {
      if (!only || only.includes(name.split(' ')[0])) servers[name] = await start(mode, { ...env, ...extra });
    }
    children.push(...Object.values(servers).map((s) => s.child));

    const results: Record<string, { ms: number[]; afterLastByte: number[]; peak: number[]; cpu: number[] }> = {};
    for (const [name, { ready }] of Object.entries(servers)) {
      results[name] = { ms: [], afterLastByte: [], peak: [], cpu: [] };
      const warm = await postUpload(ready.port, ready.key, small, 'warmup.mkv').catch((err) => {
        throw new Error(`${name}: warm-up upload failed`, { cause: err });
      });
      if (name === 'vidq' && !warm.text.includes('UploadVideoSuccess')) throw new Error(`vidq warm-up failed: ${warm.text}`);
    }
    const load = () =>
      os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ');
    console.log(`load average before: ${load()} (${os.cpus().length} CPUs)`);
    const names = Object.keys(servers);
    // What vidq would run after the last byte if nothing overlapped the transfer but the head, run here
    // on the finished file with no upload around it. An MP4 with its moov at the end leaves ffprobe and
    // both ends (the floor of its answer); any other file's head was decoded while it arrived, leaving
    // ffprobe and the tail (a moov-first MP4's tail also starts while its last second arrives).
    const headDecodedEarly = !(h264 && !faststart);
    const checksAlone: number[] = [];
    const timeChecks = async () => {
      await run('sync');
      const t0 = performance.now();
      await probeAndVerify(video, {
        ffmpeg,
        ffprobe,
        durationInHeader: h264,
        head: headDecodedEarly ? Promise.resolve({ frames: 50, complaints: [] }) : null,
      });
      checksAlone.push(performance.now() - t0);
    };
    for (let round = 1; round <= rounds; round++) {
      // Each round in another order, each upload after a sync: no variant pays for another's writeback.
      const order = names.map((_, i) => names[(i + round - 1) % names.length]);
      for (const name of order) {
        const { child, ready } = servers[name];
        await run('sync');
        const pid = child.pid!;
        const resettable = resetPeak(pid);
        const before = procStatus(pid);
        const baseline = resettable ? before.VmRSS : before.VmHWM;
        const cpuBefore = cpuSeconds(pid);
        const { ms, afterLastByteMs, text } = await postUpload(ready.port, ready.key, video, `round-${round}${path.extname(video)}`);
        const after = procStatus(pid);
        const cpu = cpuSeconds(pid) - cpuBefore;
        if (name === 'vidq') {
          const answer = JSON.parse(text).data?.uploadVideo;
          if (answer?.__typename !== 'UploadVideoSuccess') throw new Error(`vidq refused the upload: ${text}`);
          if (answer.video.sizeBytes !== size) throw new Error(`vidq stored ${answer.video.sizeBytes} bytes of ${size}`);
          // Free the disk for the next round (s3rver's objects are in the work dir, removed at the end).
          await rm(path.join(dataDir, 'uploads', answer.video.id), { recursive: true, force: true });
        }
        results[name].ms.push(ms);
        results[name].afterLastByte.push(afterLastByteMs);
        results[name].peak.push(Math.max(0, after.VmHWM - baseline));
        results[name].cpu.push(cpu);
        console.log(
          `round ${round} ${name.padEnd(28)} ${(size / MiB / (ms / 1000)).toFixed(0).padStart(5)} MB/s  ${(ms / 1000).toFixed(2)} s` +
            `  answer ${afterLastByteMs.toFixed(0)} ms after the last byte  server CPU ${cpu.toFixed(2)} s  peak RSS +${mb(Math.max(0, after.VmHWM - baseline))} MB`,
        );
      }
      if (servers.vidq) {
        await timeChecks();
        console.log(`round ${round} the checks alone                ${checksAlone.at(-1)!.toFixed(0)} ms`);
      }
    }
    console.log(`load average after: ${load()}`);
    const leftovers = (await readdir(capacitorTmp)).filter((f) => !f.startsWith('tsx-')); // tsx's compile cache
    const tmpLeft = existsSync(path.join(dataDir, 'uploads', '.tmp')) ? await readdir(path.join(dataDir, 'uploads', '.tmp')) : [];

    const rate = (name: string) => (results[name] ? size / MiB / (median(results[name].ms) / 1000) : NaN);
    console.log('\nmedian of', rounds, 'round(s):');
    for (const name of Object.keys(results)) {
      const cpuPerGb = (median(results[name].cpu) / size) * 1024 * MiB;
      console.log(
        `  ${name.padEnd(28)} ${rate(name).toFixed(0).padStart(5)} MB/s   server CPU ${cpuPerGb.toFixed(2)} s/GB` +
          `   peak RSS increase ${mb(Math.max(...results[name].peak))} MB   answer ${median(results[name].afterLastByte).toFixed(0)} ms after the last byte`,
      );
    }
    const ratio = rate('vidq') / rate('bare');
    const peak = results.vidq ? Math.max(...results.vidq.peak) / MiB : NaN;
    console.log(`\nvidq / bare throughput: ${ratio.toFixed(2)} (target ≥ 0.7) ${ratio >= 0.7 ? 'OK' : 'MISSED'}`);
    console.log(`processRequest (capacitor) / bare: ${(rate('processRequest (capacitor)') / rate('bare')).toFixed(2)}`);
    console.log(`vidq peak RSS increase: ${peak.toFixed(1)} MB (target < 100 MB) ${peak < 100 ? 'OK' : 'MISSED'}`);
    const afterLastByte = results.vidq ? median(results.vidq.afterLastByte) : NaN;
    console.log(`vidq answer after the last byte: ${afterLastByte.toFixed(0)} ms p50 (target ≤ 300 ms) ${afterLastByte <= 300 ? 'OK' : 'MISSED'}`);
    if (checksAlone.length) {
      const floor = median(checksAlone);
      console.log(
        `  of which the checks alone (${headDecodedEarly ? 'ffprobe and the tail; the head was decoded while the file arrived' : 'ffprobe, head and tail'}),` +
          ` timed on the finished file: ${floor.toFixed(0)} ms p50 on ${os.availableParallelism()} CPUs; the answer minus that: ${(afterLastByte - floor).toFixed(0)} ms` +
          (afterLastByte < floor ? ' (part of the checks ran while the file arrived)' : '') +
          (results.bare ? ` (the bare pipe answers ${median(results.bare.afterLastByte).toFixed(0)} ms after its last byte)` : ''),
      );
    }
    console.log(`left behind: ${leftovers.length} file(s) in the servers' os.tmpdir() ${JSON.stringify(leftovers)}, ${tmpLeft.length} in vidq's uploads/.tmp`);
  } finally {
    await Promise.all(children.map(stop));
    await stopS3();
    await stopPg();
    if (!process.env.BENCH_KEEP) await rm(work, { recursive: true, force: true });
  }
}

const mode = process.argv[2];
if (mode === '--serve-bare') await serveBare(process.env.BENCH_DEST!);
else if (mode === '--serve-capacitor') await serveCapacitor(process.env.BENCH_DEST!, Number(process.env.BENCH_MAX));
else if (mode === '--serve-vidq') await serveVidq(process.env.BENCH_DB!, process.env.BENCH_DATA!, Number(process.env.BENCH_MAX_MB));
else await main();
