// The examples in examples/ run as a user runs them (plain `node`, the built @vidq/client, Apollo
// Client) against a live vidq: the SDK script takes a clip from upload to downloaded outputs, its
// job.completed webhook reaches the example receiver (which refuses a forged one), and the Apollo
// example reads a job's status and an error member's code.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { waitFor } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { freePort } from '../helpers/pg-urls';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

let app: TestApp;
let user: TestUser;
let dir: string;
let receiver: { child: ChildProcess; output: () => string; url: string };

function example(script: string, args: string[], env: Record<string, string>) {
  return run(process.execPath, [path.join(ROOT, 'examples', script), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', VIDQ_URL: app.url, VIDQ_API_KEY: user.key, ...env },
    timeout: 90_000,
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ ...error, failed: true }));
}

async function startReceiver(secret: string) {
  const child = spawn(process.execPath, [path.join(ROOT, 'examples/webhook-receiver/receiver.mjs')], {
    // PORT and HOST are vidq's (a shell that started vidq may have them set): the receiver listens on
    // RECEIVER_PORT and RECEIVER_HOST (default 127.0.0.1), and ignores them.
    env: { PATH: process.env.PATH ?? '', PORT: new URL(app.url).port, HOST: '0.0.0.0', RECEIVER_PORT: '0', VIDQ_WEBHOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await waitFor('receiver listening', async () => /listening on (\S+)/.exec(out)?.[1], 15_000, 50);
  return { child, output: () => out, url };
}

beforeAll(async () => {
  // The examples import the built SDK (clients/sdk/dist, built by `npm install`): rebuild it from the
  // current sources so this test never runs a stale copy.
  await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'clients/sdk')]);
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails,transcode' } });
  user = await app.createUser({ credits: 1000 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-examples-'));
  const secret = (await gql(app.url, user.key, '{ viewer { webhookSecret } }')).body.data.viewer.webhookSecret as string;
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  if (receiver && receiver.child.exitCode === null) {
    const exited = new Promise((resolve) => receiver.child.once('exit', resolve));
    receiver.child.kill('SIGTERM');
    await exited;
  }
  await app?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('examples/', () => {
  it('node-sdk/process-video.mjs: upload → submit → follow → download, with the webhook at the receiver', async () => {
    const clip = await makeVideo(dir, { format: 'mp4', seconds: 2, audio: true, name: 'holiday' });
    const result = await example('node-sdk/process-video.mjs', [clip, 'out'], { WEBHOOK_URL: `${receiver.url}/vidq` });
    expect(result, JSON.stringify(result)).not.toHaveProperty('failed');
    const { stdout } = result as { stdout: string };
    expect(stdout).toMatch(/^uploading 100 %$/m); // not a terminal: a line of its own, no carriage returns
    expect(stdout).not.toContain('\r');
    expect(stdout).toMatch(/uploaded vid_\w+: 320×240, 2\.0 s/);
    expect(stdout).toMatch(/#1 QUEUED/);
    expect(stdout).toMatch(/STAGE_STARTED transcode/);
    const jobId = /job (job_\w+) COMPLETED/.exec(stdout)?.[1];
    expect(jobId, stdout).toBeDefined();
    const saved = await fs.readdir(path.join(dir, 'out'));
    expect(saved).toContain('transcode-video.mp4');
    expect(saved.some((name) => name.startsWith('thumbnails-'))).toBe(true);
    expect((await fs.stat(path.join(dir, 'out', 'transcode-video.mp4'))).size).toBeGreaterThan(1000);

    // The receiver verified the job.completed delivery and listed its files.
    await waitFor('job.completed at the receiver', async () => receiver.output().includes(`job.completed ${jobId}`), 30_000);
    expect(receiver.output()).toMatch(new RegExp(`job.completed ${jobId}: \\d+ files`));
  });

  it('webhook-receiver/receiver.mjs refuses a forged delivery with 400', async () => {
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // RECEIVER_HOST's default, not vidq's HOST
    const body = JSON.stringify({ type: 'job.completed', id: 'evt_forged', createdAt: new Date().toISOString(), data: {} });
    const response = await fetch(`${receiver.url}/vidq`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'evt_forged',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': 'v1,bm90IGEgcmVhbCBzaWduYXR1cmU=',
      },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/Not a genuine vidq webhook/);
    await waitFor('the receiver to log the refusal', async () => /refused a delivery/.test(receiver.output()), 5000, 20);
    expect(receiver.output()).not.toMatch(/evt_forged/);
  });

  it('node-sdk/process-video.mjs says what is wrong with a refused file and exits 1', async () => {
    const text = path.join(dir, 'notes.txt');
    await fs.writeFile(text, 'not a video');
    const result = (await example('node-sdk/process-video.mjs', [text], {})) as { code?: number; stderr: string };
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /vidq refused: UNSUPPORTED_FORMAT: The uploaded file format is not supported\.\n  .*\.txt\. Supported formats: mp4, mov, avi, mkv, webm/,
    );
  });

  it('apollo-client/job-status.mjs reads a job, and an error member through possibleTypes', async () => {
    const [job] = await app.services.database.sql`select id from jobs where owner_id = ${user.id} and status = 'COMPLETED' limit 1`;
    expect(job, 'the SDK example ran first').toBeDefined();
    const found = (await example('apollo-client/job-status.mjs', [job.id], {})) as { stdout: string };
    expect(found.stdout).toMatch(/signed in as tester \(\d+ credits\)/);
    expect(found.stdout).toContain(`job ${job.id} is COMPLETED (100 %)`);
    const missing = (await example('apollo-client/job-status.mjs', ['job_nosuchjob'], {})) as { stdout: string };
    expect(missing.stdout).toContain('JobNotFoundError JOB_NOT_FOUND: The specified job could not be found.');
  });

  it('apollo-client/job-status.mjs says how to run it without a key (64), and why a wrong key is refused (1)', async () => {
    const none = (await example('apollo-client/job-status.mjs', ['job_x'], { VIDQ_API_KEY: '' })) as { code?: number; stderr: string };
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/^usage: VIDQ_API_KEY=vq_… node examples\/apollo-client\/job-status\.mjs \[JOB_ID\]/);
    const wrong = (await example('apollo-client/job-status.mjs', ['job_x'], { VIDQ_API_KEY: 'vq_not_a_real_key' })) as { code?: number; stderr: string };
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toMatch(/^request failed: The API key is invalid, revoked or disabled\. \(.*create a new key.*\)$/);
  });

  it('node-sdk and apollo-client name the URL and VIDQ_URL when nothing answers there, and exit 1', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`; // a closed port: nothing listens there
    const clip = path.join(dir, 'never-sent.mp4');
    await fs.writeFile(clip, 'never sent');
    // The SDK example waits out the upload's retries (about 19 s) before it gives up.
    const [sdk, apollo] = (await Promise.all([
      example('node-sdk/process-video.mjs', [clip], { VIDQ_URL: closed }),
      example('apollo-client/job-status.mjs', ['job_x'], { VIDQ_URL: closed }),
    ])) as Array<{ code?: number; stdout: string; stderr: string }>;
    expect(sdk.code, sdk.stderr).toBe(1);
    expect(sdk.stderr).toContain(`vidq unavailable: SERVICE_UNAVAILABLE: Cannot reach vidq at ${closed}/uploads: connection refused`);
    expect(sdk.stderr).toContain(`Is vidq running at ${closed}?`);
    expect(sdk.stderr).toContain(`This example talks to VIDQ_URL (${closed})`);
    expect(sdk.stderr).not.toMatch(/vidq refused/);
    expect(apollo.code, apollo.stderr).toBe(1);
    expect(apollo.stderr.trim()).toBe(
      `cannot reach vidq at ${closed}/graphql (ECONNREFUSED): is vidq running there? Set VIDQ_URL=http://host:port to point this example at it.`,
    );
  }, 60_000);
});
