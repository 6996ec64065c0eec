// GraphQL throughput: the `viewer` query through the whole vidq stack (node:http, request ids and access
// log, Yoga + graphql-armor, API-key authentication against PostgreSQL, the resolver's own query)
// against a bare graphql-yoga hello world, measured the same way in the same run.
//
//   npx tsx bench/graphql.ts
//
// Each server is a child process of its own: vidq is `node bin/vidq.js serve`, exactly what `npm start`
// runs (on its embedded PostgreSQL under a temporary DATA_DIR, or on a fresh database of DATABASE_URL's
// server). The user and key come from the CLI. autocannon drives both from this process.
//
// Knobs: BENCH_CONNECTIONS (10), BENCH_DURATION (8 s), BENCH_ROUNDS (5), LOG_LEVEL for vidq (info, its
// default), BENCH_PROFILE=1 writes a CPU profile of the vidq server to bench/.out/.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { cpuAccountingAvailable, cpuSeconds } from './lib/cpu';
import { graphqlLoad, type LoadOptions, type LoadResult, median } from './lib/load';
import { type Child, firstLine, freePort, ROOT, runBench, runNode, spawnNode, waitFor } from './lib/process';

const TARGET_RATIO = 0.6;
const load: LoadOptions = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 10),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 8),
};
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const profile = process.env.BENCH_PROFILE === '1';
const outDir = path.join(ROOT, 'bench', '.out');

interface Target {
  name: string;
  url: string;
  body: unknown;
  headers: Record<string, string>;
  /** The server's process; its descendants (the embedded PostgreSQL) count as its CPU too. */
  pid: number;
}

interface Run extends LoadResult {
  /** Server CPU per request in microseconds: the node process alone, and with its descendants. */
  cpuOwnUs: number | null;
  cpuTreeUs: number | null;
}

const cleanups: Array<() => Promise<unknown>> = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) await fn().catch((error) => console.error('cleanup:', error));
  cleanups.length = 0;
}

function vidqEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATA_DIR', 'PORT', 'HOST', 'ROLE', 'EMBEDDED_PG_PORT']) delete env[name];
  return { ...env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...extra };
}

async function startHello(): Promise<Target> {
  const child = spawnNode(['--import', 'tsx', 'bench/lib/hello-server.ts']);
  cleanups.push(() => child.stop());
  const { port } = JSON.parse(await firstLine(child)) as { port: number };
  return { name: 'yoga hello world', url: `http://127.0.0.1:${port}/graphql`, body: { query: '{ hello }' }, headers: {}, pid: child.process.pid! };
}

async function startVidq(): Promise<Target & { child: Child; logFile: string }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-bench-'));
  await fs.chmod(dataDir, 0o755); // as root, the embedded cluster runs as "postgres" and must reach it
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const env: Record<string, string> = { DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' };

  if (process.env.DATABASE_URL) {
    const serverUrl = process.env.DATABASE_URL;
    const name = `vidq_bench_${randomBytes(4).toString('hex')}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    cleanups.push(async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    });
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    env.DATABASE_URL = url.toString();
  } else {
    let pgPort = await freePort();
    while (pgPort === 5432 || pgPort === port) pgPort = await freePort();
    env.EMBEDDED_PG_PORT = String(pgPort);
  }

  await fs.mkdir(outDir, { recursive: true });
  const logFile = path.join(outDir, 'graphql-vidq.log');
  const logFd = openSync(logFile, 'w');
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', outDir] : [];
  const child = spawnNode([...nodeArgs, 'bin/vidq.js', 'serve'], { env: vidqEnv(env), stdout: logFd, stderr: logFd });
  cleanups.push(async () => {
    await child.stop(20_000);
    closeSync(logFd);
  });

  const baseUrl = `http://127.0.0.1:${port}`;
  let exited = false;
  void child.exited.then(() => (exited = true));
  await waitFor('vidq /health', async () => {
    if (exited) throw new Error(`vidq serve exited early; see ${logFile}`);
    return (await fetch(`${baseUrl}/health`)).status === 200 ? true : null;
  }).catch((error) => {
    throw exited ? new Error(`vidq serve exited early; see ${logFile}`) : error;
  });

  const cliEnv = vidqEnv({ ...env, LOG_LEVEL: 'warn' });
  const user = JSON.parse(await runNode(['bin/vidq.js', 'users', 'create', '--name', 'bench', '--json'], cliEnv)) as { id: string };
  const key = JSON.parse(await runNode(['bin/vidq.js', 'keys', 'create', '--user', user.id, '--json'], cliEnv)) as { key: string };
  return {
    name: 'vidq viewer',
    url: `${baseUrl}/graphql`,
    body: { query: '{ viewer { id name credits } }' },
    headers: { authorization: `Bearer ${key.key}` },
    pid: child.process.pid!,
    child,
    logFile,
  };
}

/** One request by hand first: a benchmark of error responses would be worthless. */
async function check(target: Target, expect: (data: any) => boolean) {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify(target.body),
  });
  const body = (await res.json()) as { data?: unknown };
  if (res.status !== 200 || !expect(body.data)) throw new Error(`${target.name}: unexpected answer ${res.status} ${JSON.stringify(body)}`);
}

function fmt(n: number, digits = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  console.log(
    `GraphQL benchmark: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ` +
      `${load.connections} connections, ${load.durationSeconds} s per run, ${rounds} rounds, no pipelining, ` +
      `database: ${process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL'}, vidq LOG_LEVEL=${process.env.LOG_LEVEL ?? 'info'}`,
  );
  const [hello, vidq] = await Promise.all([startHello(), startVidq()]);
  await check(hello, (d) => d?.hello === 'world');
  await check(vidq, (d) => d?.viewer?.name === 'bench');

  // Warm-up (JIT, connection pools, PostgreSQL caches); not counted.
  for (const target of [hello, vidq]) await graphqlLoad(target.url, target.body, target.headers, { ...load, durationSeconds: 3 });

  const withCpu = cpuAccountingAvailable();
  async function measure(target: Target): Promise<Run> {
    const before = withCpu ? cpuSeconds(target.pid) : null;
    const result = await graphqlLoad(target.url, target.body, target.headers, load);
    const after = withCpu ? cpuSeconds(target.pid) : null;
    if (result.non2xx || result.errors) throw new Error(`${target.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    const perRequest = (seconds: number) => (seconds * 1e6) / result.total;
    return {
      ...result,
      cpuOwnUs: before && after ? perRequest(after.own - before.own) : null,
      cpuTreeUs: before && after ? perRequest(after.tree - before.tree) : null,
    };
  }

  const results: Record<string, Run[]> = { [hello.name]: [], [vidq.name]: [] };
  for (let round = 1; round <= rounds; round++) {
    // Alternate the order so that neither target always runs on a machine warmed (or tired) by the other.
    const order = round % 2 ? [hello, vidq] : [vidq, hello];
    for (const target of order) {
      const run = await measure(target);
      results[target.name].push(run);
      const cpu = run.cpuTreeUs === null ? '' : `  CPU ${fmt(run.cpuOwnUs!)} µs/req (with PostgreSQL ${fmt(run.cpuTreeUs)})`;
      console.log(
        `  round ${round} ${target.name.padEnd(16)} ${fmt(run.requestsPerSecond).padStart(7)} req/s  ` +
          `p50 ${run.latencyP50Ms} ms  p99 ${run.latencyP99Ms} ms${cpu}`,
      );
    }
  }

  const helloRuns = results[hello.name];
  const vidqRuns = results[vidq.name];
  const helloRps = median(helloRuns.map((r) => r.requestsPerSecond));
  const vidqRps = median(vidqRuns.map((r) => r.requestsPerSecond));
  // The two runs of a round are back to back, so their ratio is the least disturbed by whatever else
  // the machine is doing; the median of those is the figure that counts.
  const roundRatios = vidqRuns.map((r, i) => r.requestsPerSecond / helloRuns[i].requestsPerSecond);
  const ratio = median(roundRatios);
  console.log('');
  console.log(`yoga hello world : ${fmt(helloRps)} req/s (median of ${rounds})`);
  console.log(`vidq viewer      : ${fmt(vidqRps)} req/s (median of ${rounds})`);
  console.log(`ratio per round  : ${roundRatios.map((r) => fmt(r, 2)).join(' ')}`);
  console.log(`ratio            : ${fmt(ratio, 2)} (median; target ≥ ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'OK' : 'BELOW TARGET'}`);
  if (withCpu) {
    const helloCpu = median(helloRuns.map((r) => r.cpuTreeUs!));
    const vidqOwn = median(vidqRuns.map((r) => r.cpuOwnUs!));
    const vidqTree = median(vidqRuns.map((r) => r.cpuTreeUs!));
    const cpuRatios = vidqRuns.map((r, i) => helloRuns[i].cpuTreeUs! / r.cpuTreeUs!);
    console.log(`server CPU       : hello ${fmt(helloCpu)} µs/req; vidq ${fmt(vidqOwn)} µs/req in node, ${fmt(vidqTree)} µs/req with PostgreSQL (medians)`);
    console.log(`CPU ratio        : ${fmt(median(cpuRatios), 2)} (hello CPU per request / vidq CPU per request, median of rounds)`);
  }
  console.log(`vidq server log  : ${path.relative(ROOT, vidq.logFile)}${profile ? `; CPU profile in ${path.relative(ROOT, outDir)}/` : ''}`);
  return ratio >= TARGET_RATIO;
}

runBench(main, cleanup);
