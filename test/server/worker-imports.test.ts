// A worker-only process runs jobs and webhooks without the GraphQL layer: it never loads Pothos, the
// schema, Yoga or the HTTP server (what it loads is recorded by a resolve hook, while it runs a job).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { submitClip, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { killAllVidq, spawnVidq } from '../helpers/processes';

const RECORDER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/record-imports.mjs');

let dir: string;
let api: TestApp;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-imports-'));
  api = await startTestApp({ env: { ROLE: 'api', JOB_STAGES: 'probe' } });
});
afterAll(async () => {
  await killAllVidq();
  await api?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('a worker-only process', () => {
  it('runs a job without loading Pothos, the schema, Yoga or the HTTP server', async () => {
    const user = await api.createUser();
    const jobId = await submitClip(api, user, await makeVideo(dir, { format: 'mp4', seconds: 1 }));
    const recorded = path.join(dir, 'imports.txt');
    const worker = spawnVidq(['serve', '--role', 'worker'], {
      DATABASE_URL: api.database.url,
      DATA_DIR: api.dataDir,
      JOB_STAGES: 'probe',
      NODE_OPTIONS: `--import ${RECORDER}`,
      VIDQ_RECORD_IMPORTS: recorded,
    });
    const job = await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT']);
    expect(job.status, worker.output().slice(-2000)).toBe('COMPLETED');
    worker.kill('SIGTERM');
    expect(await worker.exited).toBe(0);

    const root = `file://${path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')}/`;
    const loaded = [...new Set((await fs.readFile(recorded, 'utf8')).split('\n').filter(Boolean))].map((url) => url.replace(root, ''));
    // The recording saw the worker's own code: it ran the job.
    expect(loaded).toContain('src/jobs/worker.ts');
    expect(loaded).toContain('src/pipeline/index.ts');
    const graphqlLayer = loaded.filter((url) => /node_modules\/(@pothos|graphql-yoga|@graphql-yoga|graphql-ws)\/|^src\/(graphql|server|graphiql)\//.test(url));
    expect(graphqlLayer).toEqual([]);
  });
});
