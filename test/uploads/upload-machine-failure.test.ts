// An upload whose checks fail for a reason of this machine (ffprobe out of file descriptors or threads,
// killed, an I/O error), or whose bytes meet a full disk, is not the file's fault and is likely to pass
// on a retry: 503 SERVICE_UNAVAILABLE (retryable), saying so, instead of a masked 500 INTERNAL_ERROR the
// client would report. Nothing is kept of it. The ffprobe here is a stand-in that says what a real one
// says when the machine fails it (a real one cannot be made to run out of descriptors on demand).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MachineFailureError, unavailableCause } from '../../src/server/unavailable';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { makeVideo } from '../helpers/media';
import { storedFileNames, upload, videoCount } from '../helpers/upload';

let dir: string;
let clip: string;
let app: TestApp;
let user: TestUser;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-machine-failure-'));
  clip = await makeVideo(dir, { format: 'mkv', seconds: 1 });
  const ffprobe = path.join(dir, 'ffprobe');
  await fs.writeFile(ffprobe, `#!/bin/sh\necho 'Too many open files' >&2\nexit 1\n`, { mode: 0o755 });
  app = await startTestApp({ env: { FFPROBE_PATH: ffprobe } });
  user = await app.createUser();
});
afterAll(async () => {
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('an upload whose check fails for a reason of this machine', () => {
  it('is answered 503 SERVICE_UNAVAILABLE, retryable, over GraphQL, and nothing of it is kept', async () => {
    const before = await videoCount(app);
    const res = await upload(app, user.key, { file: clip });
    expect(res.status).toBe(503);
    const [error] = res.body.errors ?? [];
    expect(error?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(error?.message).toMatch(/^The service is temporarily unavailable\. This server could not check the video; retry shortly \(request id req_/);
    expect(await videoCount(app)).toBe(before);
    expect(await storedFileNames(app)).toEqual([]);
  });

  it('is answered 503 over REST, in its envelope', async () => {
    const form = new FormData();
    form.append('video', new Blob([new Uint8Array(await fs.readFile(clip))]), 'clip.mkv');
    const res = await fetch(`${app.url}/api/v1/videos`, { method: 'POST', headers: { authorization: `Bearer ${user.key}` }, body: form });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      success: false,
      error: { code: 'SERVICE_UNAVAILABLE', detail: expect.stringMatching(/This server could not check the video; retry shortly/) },
    });
  });
});

describe('what is told to a client as SERVICE_UNAVAILABLE', () => {
  it('includes a full disk, as the write of an upload meets it (ENOSPC, also as the cause of another error)', async () => {
    const full = await fs.writeFile('/dev/full', 'x').then(
      () => null,
      (error: unknown) => error,
    );
    expect((full as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(unavailableCause(full)).toBe('This server’s disk is full');
    expect(unavailableCause(new Error('the upload could not be stored', { cause: full }))).toBe('This server’s disk is full');
    expect(unavailableCause(new MachineFailureError('This server could not check the video'))).toBe('This server could not check the video');
    expect(unavailableCause(new Error('a bug'))).toBeNull();
  });
});
