// A slot is given back however its request ends, including a client that goes away before the slot
// was even taken (while the request was being authenticated, say): with a cap of 1, a single slot
// left behind would refuse the key's next upload or stream for good. A black-box probe's half-closed
// uploads left 4 of 30 behind this way.
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { makeVideo } from '../helpers/media';
import { multipartFrame, upload } from '../helpers/upload';
import { JOB_EVENTS } from '../events/helpers';
import { openStream } from './helpers';

let app: TestApp;
let clip: Buffer;

beforeAll(async () => {
  app = await startTestApp({ env: { ROLE: 'api', WS_MAX_CONNECTIONS_PER_KEY: '1', UPLOAD_MAX_CONCURRENT_PER_KEY: '1', UPLOAD_IDLE_TIMEOUT_SECONDS: '1' } });
  clip = await fs.readFile(await makeVideo(app.dataDir, { format: 'mp4', seconds: 1 }));
});
afterAll(async () => {
  await app?.close();
});

async function slotsInUse(kind: string, keyId: string): Promise<number> {
  const [row] = await app.services.database.sql`select n from limit_slots where kind = ${kind} and key_id = ${keyId}`;
  return row?.n ?? 0;
}

describe('slots of requests whose client goes away early', () => {
  it('uploads: 30 clients that send part of the body and hang up, at every point, leave no slot behind', async () => {
    const user = await app.createUser();
    const url = new URL(app.url);
    for (let i = 0; i < 30; i++) {
      const frame = multipartFrame(`b${i}`, { filename: 'clip.mp4' });
      const body = Buffer.concat([frame.before, clip, frame.after]);
      const head = Buffer.from(
        `POST /graphql HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${user.key}\r\n` +
          `content-type: multipart/form-data; boundary=b${i}\r\ncontent-length: ${body.length}\r\n\r\n`,
      );
      const socket = net.connect(Number(url.port), url.hostname);
      const closed = new Promise((r) => socket.on('close', r));
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      socket.write(head);
      socket.write(body.subarray(0, Math.floor((body.length * i) / 30)));
      // Half-close (shutdown(SHUT_WR)) or reset; either way the client is gone a moment later.
      if (i % 2) {
        socket.end();
        setTimeout(() => socket.destroy(), 20);
      } else socket.destroy();
      await closed;
    }
    await expect.poll(() => slotsInUse('upload', user.keyId), { timeout: 10_000 }).toBe(0);
    const res = await upload(app, user.key, { file: clip, filename: 'clip.mp4' });
    expect(res.status).toBe(200);
    expect(res.body.data.uploadVideo.__typename).toBe('UploadVideoSuccess');
  });

  it('event streams: 30 clients that hang up right after asking leave no slot behind', async () => {
    const user = await app.createUser();
    const body = JSON.stringify({ query: JOB_EVENTS });
    for (let i = 0; i < 30; i++) {
      await new Promise<void>((resolve) => {
        const req = http.request(`${app.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            authorization: `Bearer ${user.key}`,
            'content-length': String(Buffer.byteLength(body)),
          },
        });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.end(body, () => setTimeout(() => req.destroy(), i % 5));
      });
    }
    await expect.poll(() => slotsInUse('sse', user.keyId), { timeout: 10_000 }).toBe(0);
    const stream = await openStream(app.url, user.key, 'text/event-stream', JOB_EVENTS);
    expect(stream.status).toBe(200);
    stream.close();
  });
});
