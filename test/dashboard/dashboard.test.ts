// The dashboard in a real Chromium, through its accessible names (the contract's test hooks): sign in,
// upload (tus) and see it listed, submit a job and watch it reach COMPLETED live, play the output, see a
// failed job's code and next step, redeliver a webhook, be signed out when the key is revoked — with no
// request leaving the origin and no console error.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { startBrowser, type GuardedPage, type TestBrowser } from '../helpers/browser';
import { gql } from '../helpers/graphql';
import { seedVideo, waitFor } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

const PIPELINES_FILE = path.resolve(import.meta.dirname, '../pipeline/fixtures/stages/pipelines.json');
let app: TestApp;
let admin: TestUser;
let user: TestUser;
let browser: TestBrowser;
let receiver: Receiver;
let dir: string;
let clip: string;
let guarded: GuardedPage;

async function signIn(key: string) {
  const { page } = guarded;
  await page.goto(`${app.url}/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-dashboard-'));
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails,transcode', PIPELINES_FILE } });
  admin = await app.createUser({ name: 'root', admin: true });
  user = await app.createUser({ name: 'dana', credits: 1000 });
  receiver = await startReceiver();
  clip = await makeVideo(dir, { format: 'mp4', seconds: 2, audio: true, name: 'holiday' });
  browser = await startBrowser();
  guarded = await browser.openPage(app.url);
});
afterAll(async () => {
  await guarded?.close();
  await browser?.close();
  await receiver?.close();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the dashboard', () => {
  it('is served at / with a Content-Security-Policy that allows only its own origin', async () => {
    const res = await fetch(`${app.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:\/\//); // local storage: no other origin
    // Its icon too: a browser would otherwise ask for /favicon.ico and log a 404.
    expect(await res.text()).toContain('<link rel="icon" href="/dashboard/icon.svg"');
    const icon = await fetch(`${app.url}/dashboard/icon.svg`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
  });

  it('refuses a wrong key, then signs in', async () => {
    const { page } = guarded;
    await signIn('vq_wrong_key_000000000000');
    await page.getByRole('alert').filter({ hasText: 'INVALID_API_KEY' }).waitFor();
    await signIn(user.key);
    await page.getByRole('link', { name: 'Videos' }).waitFor();
    expect(await page.getByText('dana').count()).toBeGreaterThan(0);
    expect(page.url()).not.toContain(user.key); // the key never goes into a URL
  });

  it('uploads with a progress bar and lists the video', async () => {
    const { page } = guarded;
    await page.getByLabel('Video file').setInputFiles(clip);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Uploaded holiday.mp4.').waitFor({ timeout: 30_000 });
    await page.getByRole('list', { name: 'Videos' }).getByText('holiday.mp4').waitFor();
  });

  it('submits a job and watches it reach COMPLETED live, then plays the output', async () => {
    const { page } = guarded;
    const video = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'holiday.mp4' }).first();
    await video.getByRole('button', { name: 'Submit job' }).click();
    await page.getByLabel('Model').selectOption('FAST');
    await page.getByLabel('Webhook URL (optional)').fill(`${receiver.url}/hook`);
    await page.getByText(/^Costs \d+ credits?\b/).waitFor();
    await video.getByRole('button', { name: 'Submit job' }).click(); // the form's, now the only one
    await page.waitForURL(/#\/jobs\/job_/);
    const reloads: string[] = [];
    page.on('framenavigated', (frame) => reloads.push(frame.url()));
    await page.getByTestId('job-status').getByText('COMPLETED', { exact: true }).waitFor({ timeout: 60_000 });
    expect(reloads).toEqual([]); // arrived live, no reload
    expect(await page.getByRole('progressbar', { name: 'Job progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(await page.getByRole('list', { name: 'Events' }).getByRole('listitem').first().textContent()).toMatch(/^#1 QUEUED/);

    const player = page.getByLabel('Processed video');
    await player.waitFor();
    const played = await player.evaluate(async (el: HTMLVideoElement) => {
      el.muted = true;
      await el.play();
      const start = el.currentTime;
      await new Promise((r) => setTimeout(r, 700));
      return { readyState: el.readyState, advanced: el.currentTime > start };
    });
    expect(played.readyState).toBeGreaterThanOrEqual(2);
    expect(played.advanced).toBe(true);
    expect(await page.getByRole('img', { name: /poster/ }).count()).toBe(1);
  });

  it('redelivers a webhook from the page', async () => {
    const { page } = guarded;
    const [first] = await receiver.waitFor(1);
    await page.reload(); // the delivery's outcome, recorded after the job ended
    const delivery = page.getByRole('region', { name: 'Webhook deliveries' }).getByRole('listitem').filter({ hasText: 'job.completed' }).first();
    await delivery.getByText('DELIVERED').waitFor();
    await delivery.getByRole('button', { name: 'Redeliver' }).click();
    // Through the queue to the receiver: generous for a CI machine busy with Chromium and other test files.
    const requests = await receiver.waitFor(2, 15_000).catch(async (error: Error) => {
      const deliveries = await page.getByRole('region', { name: 'Webhook deliveries' }).textContent();
      throw new Error(`${error.message}; the page says: ${deliveries}`);
    });
    expect(requests[1].headers['webhook-id']).toBe(first.headers['webhook-id']); // the same event, again
  });

  it("shows a failed job's code and next step", async () => {
    const { page } = guarded;
    await page.goto(`${app.url}/#/videos`);
    const video = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'holiday.mp4' }).first();
    await video.getByRole('button', { name: 'Submit job' }).click();
    await page.getByLabel('Pipeline').selectOption('slow'); // its stage runs past its own 1 s limit
    await video.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job_/);
    await page.getByTestId('job-status').getByText('TIMED_OUT', { exact: true }).waitFor({ timeout: 30_000 });
    const error = page.getByRole('alert').filter({ hasText: 'JOB_TIMEOUT' });
    await error.waitFor();
    expect(await error.textContent()).toMatch(/Next step: /);
    await page.getByRole('button', { name: 'Retry job' }).waitFor();
  });

  it('has exactly one "Submit job" button per video: it opens the form, then submits it; Cancel closes the form', async () => {
    const { page } = guarded;
    const picnic = path.join(dir, 'picnic.mp4');
    await fs.copyFile(clip, picnic);
    const seeded = await seedVideo(app, user.id, picnic);
    await page.goto(`${app.url}/#/videos`);
    await page.reload(); // lists the video just seeded, whichever page the last test left open
    const video = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'picnic.mp4' });
    const submitJob = video.getByRole('button', { name: 'Submit job', exact: true });
    const form = video.getByRole('form', { name: 'Submit a job for picnic.mp4' });
    const inForm = () => submitJob.evaluate((button) => button.closest('form') !== null);
    await submitJob.waitFor();
    expect(await submitJob.count()).toBe(1);
    expect(await inForm()).toBe(false);

    // Opened: the form's submit button is now the one "Submit job"; Cancel closes it and brings the opener back.
    await submitJob.click();
    await form.waitFor();
    expect(await submitJob.count()).toBe(1);
    expect(await inForm()).toBe(true);
    await form.getByLabel('Model').selectOption('PRO');
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
    expect(await submitJob.count()).toBe(1);
    expect(await inForm()).toBe(false);

    // A script from the contract: the video's "Submit job" twice in a row submits one job with the defaults.
    await submitJob.click();
    await submitJob.click();
    await page.waitForURL(/#\/jobs\/job_/);
    const jobId = page.url().split('/').pop();
    const res = await gql(
      app.url,
      user.key,
      `query($id: ID!) { pipelines { name } video(id: $id) { ... on Video { jobs { id pipeline options { model outputFormat background { remove } } } } } }`,
      { id: seeded.id },
    );
    expect(res.body.data.video.jobs).toEqual([
      { id: jobId, pipeline: res.body.data.pipelines[0].name, options: { model: 'FAST', outputFormat: 'MP4', background: null } },
    ]);
  });

  it('keeps a typed error in the form with its next step, and the one "Submit job" button', async () => {
    const { page } = guarded;
    const broke = await app.createUser({ name: 'eve', credits: 0 });
    const seeded = await seedVideo(app, broke.id, clip);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(broke.key);
    const video = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'holiday.mp4' });
    const submitJob = video.getByRole('button', { name: 'Submit job', exact: true });
    await submitJob.click();
    await submitJob.click();
    const error = video.getByRole('alert').filter({ hasText: 'INSUFFICIENT_CREDITS' });
    await error.waitFor();
    expect(await error.textContent()).toMatch(/Next step: /);
    expect(await submitJob.count()).toBe(1);
    expect(await video.getByRole('form').count()).toBe(1); // the choices are still there to change
    expect(page.url()).toMatch(/#\/videos$/);
    const res = await gql(app.url, broke.key, `query($id: ID!) { video(id: $id) { ... on Video { jobs { id } } } }`, { id: seeded.id });
    expect(res.body.data.video.jobs).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(user.key);
    await page.getByRole('link', { name: 'Videos' }).waitFor();
  });

  it('signs out, saying so, when the key is revoked while the page is open', async () => {
    const { page } = guarded;
    await page.goto(`${app.url}/#/jobs`);
    await page.getByRole('table', { name: 'Jobs' }).waitFor();
    await waitFor('the live socket', async () => guarded.requests.some((r) => r.includes('ws://')), 10_000);
    const revoked = await gql(app.url, admin.key, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: user.keyId });
    expect(revoked.body.data.revokeApiKey).toBe(true);
    await page.getByText(/Your key was revoked/).waitFor({ timeout: 10_000 });
    await page.getByLabel('API key').waitFor();
  });

  it('never left the origin and logged no error', () => {
    expect(guarded.offOriginRequests).toEqual([]);
    // The wrong key's sign-in answered 401: the browser logs that failed load; nothing else.
    expect(guarded.consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    expect(guarded.pageErrors).toEqual([]);
  });
});
