// redeliverWebhook of a job.completed event: the files' download URLs expire 24 hours after they were
// signed, and a redelivery is often asked for days later, so it signs them again. Everything else in
// the body, and the webhook-id, stay the event's own.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { type Receiver, startReceiver } from '../helpers/webhook-receiver';
import { emitTerminalEvent, verified, viewerSecret, waitForDelivery } from './helpers';

let app: TestApp;
let mediaDir: string;
let clip: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails', WEBHOOK_TIMEOUT_MS: '2000' } });
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
afterAll(async () => {
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

const REDELIVER = `mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) {
  __typename ... on RedeliverWebhookSuccess { delivery { id } } ... on Error { message } } }`;

type FileEntry = { kind: string; stage: string; path: string; url: string; sizeBytes: number };

const expiresOf = (url: string) => Number(new URL(url).searchParams.get('expires'));

/** The body with every file's URL left out: what must not change between the two sendings. */
function withoutUrls(payload: any) {
  const copy = structuredClone(payload);
  for (const file of copy.data.job.output.files as FileEntry[]) delete (file as Partial<FileEntry>).url;
  return copy;
}

describe('redeliverWebhook', () => {
  it('signs a job.completed event’s download URLs again, and sends the rest of the event unchanged', async () => {
    const hook = await startReceiver({ status: 200 });
    receivers.push(hook);
    const user = await app.createUser({ credits: 10 });
    const video = await seedVideo(app, user.id, clip);
    const submitted = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST', webhookUrl: hook.url } });
    const jobId: string = submitted.body.data.submitJob.job.id;
    const job = await waitForStatus(app, jobId, ['COMPLETED', 'FAILED', 'TIMED_OUT'], 60_000);
    expect(job.status, JSON.stringify(job.error)).toBe('COMPLETED');

    const [first] = await hook.waitFor(1, 20_000);
    const secret = await viewerSecret(app, user);
    const original = verified(secret, first) as any;
    const files: FileEntry[] = original.data.job.output.files;
    expect(files.length).toBeGreaterThan(0);
    const listed = await gql(app.url, user.key, `query ($id: ID!) { job(id: $id) { ... on Job { webhookDeliveries { id } } } }`, { id: jobId });
    const [delivery] = listed.body.data.job.webhookDeliveries;
    await waitForDelivery(app, delivery.id);

    // URLs carry their expiry in whole seconds: a second later, a fresh one expires later.
    await sleep(1100);
    const res = await gql(app.url, user.key, REDELIVER, { id: delivery.id });
    expect(res.body.data.redeliverWebhook.__typename).toBe('RedeliverWebhookSuccess');
    const [, second] = await hook.waitFor(2, 20_000);
    const resent = verified(secret, second) as any;

    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(withoutUrls(resent)).toEqual(withoutUrls(original));
    const fresh: FileEntry[] = resent.data.job.output.files;
    for (const [i, file] of fresh.entries()) {
      expect(file.url).not.toBe(files[i].url);
      expect(expiresOf(file.url)).toBeGreaterThan(expiresOf(files[i].url));
    }
    // And the fresh URL downloads the file itself (from this test's server: the worker signs URLs for
    // PUBLIC_URL, unset here, while the test server listens on a port of its own).
    const signed = new URL(fresh[0].url);
    const download = await fetch(new URL(signed.pathname + signed.search, app.url));
    expect(download.status).toBe(200);
    expect((await download.arrayBuffer()).byteLength).toBe(fresh[0].sizeBytes);
  });

  it('sends any other event’s body byte for byte as it was', async () => {
    const hook = await startReceiver({ status: 200 });
    receivers.push(hook);
    const user = await app.createUser();
    const { deliveries } = await emitTerminalEvent(app, user.id, { webhookUrl: hook.url, status: 'FAILED' });
    await waitForDelivery(app, deliveries[0].id);
    const res = await gql(app.url, user.key, REDELIVER, { id: deliveries[0].id });
    expect(res.body.data.redeliverWebhook.__typename).toBe('RedeliverWebhookSuccess');
    const [first, second] = await hook.waitFor(2, 20_000);
    expect(second.body).toBe(first.body);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
  });
});
