// Uploads that a client abandons half-way, reproduced as a black-box probe found them, over raw
// sockets against a real `vidq serve --role api` process: a request body broken off by a half-close
// (shutdown(SHUT_WR)) at any point, and one that just stops (headers and half a body, then silence).
// Each must end with no temp file, an "upload interrupted" log line, and the connection closed.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { makeVideo } from '../helpers/media';
import { freePort } from '../helpers/pg-urls';
import { killAllVidq, spawnVidq, untilServing, type VidqProcess } from '../helpers/processes';
import { multipartFrame, storedFileNames } from '../helpers/upload';

let app: TestApp;
let alice: TestUser;
let api: VidqProcess;
let port: number;
let media: string;
let clip: Buffer;

beforeAll(async () => {
  media = await mkdtemp(path.join(os.tmpdir(), 'media-'));
  clip = await readFile(await makeVideo(media, { format: 'mp4', seconds: 2 }));
  app = await startTestApp({ env: { ROLE: 'worker' } });
  alice = await app.createUser({ name: 'alice' });
  port = await freePort();
  api = spawnVidq(['serve', '--role', 'api'], {
    DATABASE_URL: app.database.url,
    DATA_DIR: app.dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    UPLOAD_IDLE_TIMEOUT_SECONDS: '1',
    LOG_LEVEL: 'info',
  });
  await untilServing(api, `http://127.0.0.1:${port}`);
});
afterAll(async () => {
  await killAllVidq();
  await app?.close();
  await rm(media, { recursive: true, force: true });
});

/** A valid upload request's bytes: headers and the whole multipart body. */
function uploadRequest(boundary: string): { head: Buffer; body: Buffer } {
  const frame = multipartFrame(boundary, { filename: 'clip.mp4' });
  const body = Buffer.concat([frame.before, clip, frame.after]);
  const head = Buffer.from(
    `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${alice.key}\r\n` +
      `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${body.length}\r\n\r\n`,
  );
  return { head, body };
}

/** Resolves when the server has closed its side of the socket (or answered and closed). */
function closedByServer(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer));
  });
}

const partFiles = async () => (await storedFileNames(app)).filter((f) => f.startsWith('.tmp/'));
const interruptedLines = () =>
  api
    .output()
    .split('\n')
    .filter((l) => l.includes('upload interrupted')).length;

describe('an upload whose client half-closes the connection part-way through the body', () => {
  it('leaves no temp file, logs the interruption and closes the connection, at every point of 30', async () => {
    const before = interruptedLines();
    const closed: Promise<string>[] = [];
    for (let i = 0; i < 30; i++) {
      const { head, body } = uploadRequest(`vidqHalfClose${i}`);
      const socket = net.connect(port, '127.0.0.1');
      closed.push(closedByServer(socket));
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(head);
      // 10 %…90 % of the body, then shutdown(SHUT_WR): the server sees the end of the stream early.
      const cut = Math.floor(body.length * (0.1 + (0.8 * i) / 29));
      socket.write(body.subarray(0, cut));
      await new Promise((r) => setTimeout(r, i % 3 === 0 ? 0 : 20));
      socket.end();
    }
    await Promise.all(closed);
    await expect.poll(partFiles, { timeout: 15_000 }).toEqual([]);
    await expect.poll(interruptedLines, { timeout: 15_000 }).toBeGreaterThanOrEqual(before + 1);
    expect(api.output()).not.toMatch(/Closing file descriptor/);
    const [{ n }] = await app.services.database.sql`select count(*)::int as n from videos`;
    expect(n).toBe(0);
  });
});

describe('an upload that stops: headers and half the body, then silence', () => {
  it('is given up after UPLOAD_IDLE_TIMEOUT_SECONDS: the connection is closed and nothing is kept', async () => {
    const before = interruptedLines();
    const { head, body } = uploadRequest('vidqStall');
    const socket = net.connect(port, '127.0.0.1');
    const closed = closedByServer(socket);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(head);
    socket.write(body.subarray(0, Math.floor(body.length / 2)));
    await expect.poll(async () => (await partFiles()).length, { timeout: 10_000 }).toBe(1);
    await closed; // the server hangs up; the client never does (without the idle timeout: 6 hours)
    await expect.poll(partFiles, { timeout: 10_000 }).toEqual([]);
    await expect.poll(() => api.output(), { timeout: 5_000 }).toMatch(/no data arrived for 1 s/);
    expect(interruptedLines()).toBeGreaterThan(before);
  });
});
