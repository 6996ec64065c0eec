// A job attempt's workspace with s3 storage, at the two places storage can fail it: fetching the source
// and storing a finished stage's files. Either is a transient SERVICE_UNAVAILABLE (retried at its stage)
// and leaves no scratch behind.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { openJobWorkspace } from '../../src/jobs/workspace';
import { TransientStageError, toStageError } from '../../src/pipeline/index';
import { createStorage } from '../../src/storage/index';
import type { Storage } from '../../src/storage/types';
import { waitFor } from '../helpers/jobs';
import { startS3, type TestS3 } from '../helpers/s3';

let dir: string;
let s3: TestS3;
let storage: Storage;
let config: ReturnType<typeof loadConfig>;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-workspace-'));
  s3 = await startS3();
  config = loadConfig({ DATA_DIR: path.join(dir, 'data'), ...s3.env() });
  storage = await createStorage(config);
  const source = path.join(dir, 'source.mp4');
  await fs.writeFile(source, 'not really a video, only bytes');
  await storage.putFile('uploads/vid_ws1/source.mp4', source);
});
afterAll(async () => {
  storage?.close();
  await s3?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const scratchOf = (jobId: string) => path.join(config.scratchDir, 'jobs', jobId);

describe('a job workspace on s3', () => {
  it('fetches the source into scratch, stores stage files as objects, and leaves nothing when closed', async () => {
    const workspace = await openJobWorkspace({ storage, config }, 'job_ws1', 1, { storagePath: 'uploads/vid_ws1/source.mp4' });
    expect(workspace.inputPath.startsWith(scratchOf('job_ws1'))).toBe(true);
    expect(await fs.readFile(workspace.inputPath, 'utf8')).toBe('not really a video, only bytes');
    await fs.writeFile(path.join(workspace.outputDir, 'poster.jpg'), 'jpeg');
    await workspace.store([{ kind: 'poster', path: 'poster.jpg', contentType: 'image/jpeg', sizeBytes: 4 }]);
    expect(await s3.keys('outputs/job_ws1/')).toEqual(['outputs/job_ws1/poster.jpg']);
    await workspace.close();
    expect(existsSync(scratchOf('job_ws1'))).toBe(false);
  });

  it('gives each attempt its own scratch: an attempt that ends does not remove the next one’s files', async () => {
    const stopping = await openJobWorkspace({ storage, config }, 'job_ws4', 1, { storagePath: 'uploads/vid_ws1/source.mp4' });
    const next = await openJobWorkspace({ storage, config }, 'job_ws4', 2, { storagePath: 'uploads/vid_ws1/source.mp4' });
    expect(next.inputPath).not.toBe(stopping.inputPath);
    await stopping.close();
    expect(await fs.readFile(next.inputPath, 'utf8')).toBe('not really a video, only bytes');
    expect(existsSync(next.scratchDir)).toBe(true);
    await next.close();
    expect(existsSync(scratchOf('job_ws4'))).toBe(false);
  });

  it('gives up a download and a put when the attempt is aborted, at once, and leaves no object once the bucket answers', async () => {
    const download = new AbortController();
    const holdGet = s3.hold('GET', `/${s3.bucket}/uploads/vid_ws1/source.mp4`);
    const opening = openJobWorkspace({ storage, config }, 'job_ws5', 1, { storagePath: 'uploads/vid_ws1/source.mp4' }, download.signal);
    await new Promise((r) => setTimeout(r, 300));
    download.abort(new Error('deadline passed'));
    await expect(opening).rejects.toThrow();
    holdGet();
    expect(existsSync(scratchOf('job_ws5'))).toBe(false);

    const put = new AbortController();
    const workspace = await openJobWorkspace({ storage, config }, 'job_ws6', 1, { storagePath: 'uploads/vid_ws1/source.mp4' }, put.signal);
    await fs.writeFile(path.join(workspace.outputDir, 'poster.jpg'), 'jpeg');
    const holdPut = s3.hold('PUT', `/${s3.bucket}/outputs/job_ws6/poster.jpg`);
    const storing = workspace.store([{ kind: 'poster', path: 'poster.jpg', contentType: 'image/jpeg', sizeBytes: 4 }]);
    await new Promise((r) => setTimeout(r, 300));
    put.abort(new Error('deadline passed'));
    await expect(storing).rejects.toThrow();
    holdPut(); // the object lands after all…
    await waitFor('the late object to be removed', async () => (await s3.keys('outputs/job_ws6/')).length === 0, 10_000); // …and goes
    await workspace.close();
    // An aborted attempt starts no put at all.
    await expect(workspace.store([{ kind: 'poster', path: 'poster.jpg', contentType: 'image/jpeg', sizeBytes: 4 }])).rejects.toThrow('deadline passed');
  });

  it('fails a missing source as a transient SERVICE_UNAVAILABLE, keeping no scratch', async () => {
    const error = await openJobWorkspace({ storage, config }, 'job_ws2', 1, { storagePath: 'uploads/vid_gone/source.mp4' }).catch((e) => e);
    const stageError = toStageError(error);
    expect(stageError).toBeInstanceOf(TransientStageError);
    expect(stageError.code).toBe('SERVICE_UNAVAILABLE');
    expect(existsSync(scratchOf('job_ws2'))).toBe(false);
  });

  it('fails storing a finished stage while the bucket is down as a transient SERVICE_UNAVAILABLE', async () => {
    const workspace = await openJobWorkspace({ storage, config }, 'job_ws3', 1, { storagePath: 'uploads/vid_ws1/source.mp4' });
    await fs.writeFile(path.join(workspace.outputDir, 'video.mp4'), 'mp4');
    await s3.stop();
    try {
      const error = await workspace.store([{ kind: 'video', path: 'video.mp4', contentType: 'video/mp4', sizeBytes: 3 }]).catch((e) => e);
      const stageError = toStageError(error);
      expect(stageError).toBeInstanceOf(TransientStageError);
      expect(stageError.code).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await s3.start();
      await workspace.close();
    }
    expect(existsSync(scratchOf('job_ws3'))).toBe(false);
    expect(await s3.keys('outputs/job_ws3/')).toEqual([]);
  });
});
