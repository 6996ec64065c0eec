// The per-key caps hold across API processes: WebSockets (WS_MAX_CONNECTIONS_PER_KEY), SSE streams
// (the same number, counted apart) and uploads in progress (UPLOAD_MAX_CONCURRENT_PER_KEY) are counted
// in PostgreSQL, so two API processes do not double them; and the slots of an API process that is
// killed (SIGKILL, no chance to give anything back) are free again for the others at once.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys';
import { createUser } from '../../src/auth/users';
import { LEASE_LOCK_CLASS, LIVE_LEASE_IDS } from '../../src/db/process-lease';
import { WS_CLOSE_TOO_MANY_CONNECTIONS } from '../../src/server/ws-policy';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { waitFor } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { freePort } from '../helpers/pg-urls';
import { killAllVidq, spawnVidq, untilServing, type VidqProcess } from '../helpers/processes';
import { multipartFrame, upload } from '../helpers/upload';
import { JOB_EVENTS, openSocket, type RawSocket } from '../events/helpers';
import { openStream } from './helpers';

const CAPS = { ROLE: 'api', WS_MAX_CONNECTIONS_PER_KEY: '2', UPLOAD_MAX_CONCURRENT_PER_KEY: '1' };

let clip: string;
let a: TestApp;
let b: TestApp;
const sockets: RawSocket[] = [];
const streams: Array<{ close(): void }> = [];
const requests: http.ClientRequest[] = [];
const spawnedDirs: string[] = [];

beforeAll(async () => {
  a = await startTestApp({ env: CAPS });
  b = await startTestApp({ env: CAPS, database: a.database, dataDir: a.dataDir });
  clip = await makeVideo(a.dataDir, { format: 'mp4', seconds: 2 });
});
afterAll(async () => {
  for (const s of sockets) s.ws.terminate();
  for (const s of streams) s.close();
  for (const r of requests) r.destroy();
  await killAllVidq();
  await b?.close();
  await a?.close();
  for (const dir of spawnedDirs) await fs.rm(dir, { recursive: true, force: true });
});

function socket(url: string, key: string) {
  const s = openSocket(url, key);
  sockets.push(s);
  return s;
}

async function stream(url: string, key: string) {
  const s = await openStream(url, key, 'text/event-stream', JOB_EVENTS);
  streams.push(s);
  return s;
}

async function slotsInUse(app: TestApp, kind: string, keyId: string): Promise<number> {
  const [row] = await app.services.database.sql`select n from limit_slots where kind = ${kind} and key_id = ${keyId}`;
  return row?.n ?? 0;
}

/** An upload whose client sends half of a real video and then nothing: it holds its slot until destroyed. */
async function stalledUpload(url: string, key: string) {
  const boundary = 'stall-boundary';
  const { before } = multipartFrame(boundary, { filename: 'stalled.mp4' });
  const video = await fs.readFile(clip);
  const req = http.request(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${key}` },
  });
  req.on('error', () => {}); // destroyed on purpose
  req.write(Buffer.concat([before, video.subarray(0, video.length >> 1)]));
  requests.push(req);
  return req;
}

describe('two API processes on one database', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await a.createUser();
  });

  it('share one WebSocket cap per key: one socket on each, a third on either is closed with 4429', async () => {
    const [onA, onB] = [socket(a.url, user.key), socket(b.url, user.key)];
    await Promise.all([onA.acked, onB.acked]);
    expect(await slotsInUse(a, 'ws', user.keyId)).toBe(2);
    for (const url of [a.url, b.url]) {
      const refused = await socket(url, user.key).closed;
      expect(refused).toEqual({ code: WS_CLOSE_TOO_MANY_CONNECTIONS, reason: 'Too many connections for this API key: at most 2' });
    }
    onA.ws.close();
    await onA.closed;
    await waitFor('the slot given back', async () => (await slotsInUse(a, 'ws', user.keyId)) === 1, 5_000);
    const again = socket(b.url, user.key);
    await again.acked; // the freed slot, taken on the other process
    again.ws.close();
    onB.ws.close();
    await Promise.all([again.closed, onB.closed]);
    await waitFor('every slot given back', async () => (await slotsInUse(a, 'ws', user.keyId)) === 0, 5_000);
  });

  it('share one SSE cap per key, counted apart from sockets', async () => {
    const other = await b.createUser();
    const s1 = socket(a.url, other.key);
    const s2 = socket(b.url, other.key);
    await Promise.all([s1.acked, s2.acked]); // the key's sockets are at their cap; its streams are not
    const first = await stream(a.url, other.key);
    const second = await stream(b.url, other.key);
    expect([first.status, second.status]).toEqual([200, 200]);
    for (const url of [a.url, b.url]) {
      const refused = await stream(url, other.key);
      expect(refused.status).toBe(429);
      expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 5 });
    }
    second.close();
    const again = await waitFor(
      'a stream slot to free up',
      async () => {
        const attempt = await stream(a.url, other.key);
        return attempt.status === 200 ? attempt : null;
      },
      5_000,
    );
    again.close();
    first.close();
  });

  it('share one cap on uploads in progress per key: a second upload on the other process is 429 until the first ends', async () => {
    const uploader = await a.createUser();
    const stalled = await stalledUpload(a.url, uploader.key);
    await waitFor('the stalled upload to hold its slot', async () => (await slotsInUse(a, 'upload', uploader.keyId)) === 1, 5_000);

    const refused = await upload(b, uploader.key, { file: Buffer.from('not a video at all'), filename: 'second.mp4' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.errors?.[0]).toEqual({
      message: 'Too many uploads in progress for this API key: at most 1 at once. Wait for one to finish.',
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 5 },
    });
    // Another key uploads meanwhile.
    const someoneElse = await a.createUser();
    expect((await upload(b, someoneElse.key, { file: Buffer.from('not a video'), filename: 'x.mp4' })).status).toBe(200);

    stalled.destroy();
    await waitFor('the slot of the interrupted upload to be given back', async () => (await slotsInUse(a, 'upload', uploader.keyId)) === 0, 5_000);
    const admitted = await upload(b, uploader.key, { file: Buffer.from('not a video at all'), filename: 'third.mp4' });
    expect(admitted.status).toBe(200);
    expect(admitted.body.data.uploadVideo.__typename).not.toBe('RateLimitedError');
    // The answered upload gave its slot back too.
    await waitFor('the finished upload’s slot given back', async () => (await slotsInUse(a, 'upload', uploader.keyId)) === 0, 5_000);
  });
});

describe('an API process whose lease connection is lost (pg_terminate_backend, a PostgreSQL restart)', () => {
  it('takes its lease again and writes its share back, even if another process took it out meanwhile', async () => {
    const user = await a.createUser();
    const held = [socket(a.url, user.key), socket(a.url, user.key)];
    await Promise.all(held.map((s) => s.acked));
    const sql = a.services.database.sql;
    const [row] = await sql`select holders from limit_slots where kind = 'ws' and key_id = ${user.keyId}`;
    const leaseId = Object.keys(row!.holders)[0]!;
    expect(row!.holders).toEqual({ [leaseId]: 2 });

    // What another process's sweep does to the share of a lease it cannot see; then the session goes.
    await sql`update limit_slots set n = n - 2, holders = holders - ${leaseId}::text where kind = 'ws' and key_id = ${user.keyId}`;
    const [lease] =
      await sql`select pid from pg_locks where locktype = 'advisory' and classid = ${LEASE_LOCK_CLASS} and objid = ${leaseId}::oid and objsubid = 2 and database = (select oid from pg_database where datname = current_database())`;
    await sql`select pg_terminate_backend(${lease!.pid}::int)`;

    await waitFor('the share written back', async () => (await slotsInUse(a, 'ws', user.keyId)) === 2, 10_000);
    const [after] = await sql`select holders from limit_slots where kind = 'ws' and key_id = ${user.keyId}`;
    expect(Object.values(after!.holders)).toEqual([2]);
    // The cap holds again, on either process.
    expect((await socket(b.url, user.key).closed).code).toBe(WS_CLOSE_TOO_MANY_CONNECTIONS);
    expect(held.every((s) => s.ws.readyState === s.ws.OPEN)).toBe(true);
    for (const s of held) s.ws.close();
    await waitFor('every slot given back', async () => (await slotsInUse(a, 'ws', user.keyId)) === 0, 5_000);
  });
});

describe('an API process killed with its connections', () => {
  it('frees its WebSocket and SSE slots for the other processes', async () => {
    const user = await createUser(a.services.database.db, { name: 'killed', credits: 0 });
    const { key, id: keyId } = await createApiKey(a.services.database.db, user.id);
    const victim = await spawnApi();
    const survivor = await spawnApi();

    const held = [socket(victim.url, key), socket(victim.url, key)];
    await Promise.all(held.map((s) => s.acked));
    expect((await stream(victim.url, key)).status).toBe(200);
    expect((await stream(victim.url, key)).status).toBe(200);
    expect((await socket(survivor.url, key).closed).code).toBe(WS_CLOSE_TOO_MANY_CONNECTIONS);
    expect((await stream(survivor.url, key)).status).toBe(429);
    const sql = a.services.database.sql;
    const [row] = await sql`select holders from limit_slots where kind = 'ws' and key_id = ${keyId}`;
    const [victimLease] = Object.keys(row!.holders);
    expect(row!.holders).toEqual({ [victimLease!]: 2 });

    victim.proc.kill('SIGKILL');
    await victim.proc.exited;
    // A slot is the dead process's until its session is gone from PostgreSQL (its lease lock with it),
    // which PostgreSQL notices on its own time after the process exits.
    await waitFor(
      'the killed process’s lease to be released',
      async () => !(await sql`select ${victimLease!}::text = any(${sql.unsafe(LIVE_LEASE_IDS)}) as held`)[0]!.held,
      30_000,
    );
    // Nothing was given back; the survivor finds the dead process's share and takes it out.
    const fresh = [socket(survivor.url, key), socket(survivor.url, key)];
    await Promise.all(fresh.map((s) => s.acked));
    expect((await stream(survivor.url, key)).status).toBe(200);
    expect((await stream(survivor.url, key)).status).toBe(200);
    expect((await socket(survivor.url, key).closed).code).toBe(WS_CLOSE_TOO_MANY_CONNECTIONS);
    expect((await stream(survivor.url, key)).status).toBe(429);
    survivor.proc.kill('SIGTERM');
  });
});

async function spawnApi(): Promise<{ url: string; proc: VidqProcess }> {
  const port = await freePort();
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-test-data-limits-'));
  spawnedDirs.push(dataDir);
  const proc = spawnVidq(['serve', '--role', 'api'], {
    DATABASE_URL: a.database.url,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    WS_MAX_CONNECTIONS_PER_KEY: '2',
  });
  const url = `http://127.0.0.1:${port}`;
  await untilServing(proc, url);
  return { url, proc };
}
