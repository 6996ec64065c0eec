// The published JSON Schema of webhook payloads (GET /webhooks/schema.json, webhooks.schema.json) and
// what is really sent: a job.completed payload, with its files and their download URLs, and a
// webhook.test payload validate against it; the file URLs download without an API key.
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printedWebhookSchema } from '../../src/webhooks/schemas';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';
import { createEndpoint, verified, viewerSecret } from './helpers';

let api: TestApp;
let worker: TestApp;
let receiver: Receiver;
let dir: string;
let clip: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-payload-'));
  clip = await makeVideo(dir, { format: 'mp4', seconds: 1 });
  receiver = await startReceiver({ status: 200 });
  api = await startTestApp({ env: { ROLE: 'api', JOB_STAGES: 'probe,thumbnails' } });
  // The worker builds the payload's links, with no request to take a host from: PUBLIC_URL.
  worker = await startTestApp({ env: { ROLE: 'worker', JOB_STAGES: 'probe,thumbnails', PUBLIC_URL: api.url }, database: api.database, dataDir: api.dataDir });
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await receiver?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function publishedValidator() {
  const answer = await fetch(`${api.url}/webhooks/schema.json`);
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toBe('application/schema+json; charset=utf-8');
  const schema = await answer.json();
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('the webhook payload schema', () => {
  it('is committed as webhooks.schema.json, as served (run `npm run schema:print` after changing a payload)', async () => {
    expect(readFileSync(new URL('../../webhooks.schema.json', import.meta.url), 'utf8')).toBe(printedWebhookSchema());
    expect(await (await fetch(`${api.url}/webhooks/schema.json`)).text()).toBe(printedWebhookSchema());
  });

  it('validates a real job.completed payload, whose files download without an API key', async () => {
    const validate = await publishedValidator();
    const user = await api.createUser();
    const video = await seedVideo(api, user.id, clip);
    const submitted = await gql(api.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST', webhookUrl: `${receiver.url}/hook` } });
    const jobId: string = submitted.body.data.submitJob.job.id;
    expect((await waitForStatus(api, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'])).status).toBe('COMPLETED');
    const [request] = await receiver.waitFor(1, 20_000);
    const payload = verified(await viewerSecret(api, user), request) as {
      data: { job: { output: { files: Array<{ url: string; sizeBytes: number; kind: string }> } } };
    };

    expect(validate(payload), JSON.stringify(validate.errors)).toBe(true);
    const { files } = payload.data.job.output;
    expect(files.map((f) => f.kind).sort()).toEqual(expect.arrayContaining(['poster', 'thumbnail']));
    for (const file of files) {
      expect(file.url.startsWith(`${api.url}/files/${jobId}/`)).toBe(true);
      const download = await fetch(file.url);
      expect(download.status).toBe(200);
      expect((await download.arrayBuffer()).byteLength).toBe(file.sizeBytes);
    }
  });

  it('validates a webhook.test payload, and refuses a payload that is not one of vidq’s', async () => {
    const validate = await publishedValidator();
    const user = await api.createUser();
    const endpoint = await createEndpoint(api, user, `${receiver.url}/endpoint`);
    const sent = await gql(api.url, user.key, `mutation($id: ID!) { sendTestWebhook(endpointId: $id) { __typename } }`, { id: endpoint.id });
    expect(sent.body.data.sendTestWebhook.__typename).toBe('SendTestWebhookSuccess');
    const requests = await receiver.waitFor(2, 20_000);
    const test = requests.find((r) => r.path === '/endpoint')!;
    const payload = JSON.parse(test.body);
    expect(payload.type).toBe('webhook.test');
    expect(validate(payload), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...payload, type: 'job.exploded' })).toBe(false);
  });
});
