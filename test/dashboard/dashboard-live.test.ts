// The dashboard when things change under it, in a real Chromium: a retried job followed live again, actions
// whose request fails (said beside the control, which works again), vidq restarting (the page says the
// connection is lost, reconnects within seconds and catches up), a key revoked while no socket is open,
// and data that goes stale (credits, webhook deliveries, an old incident report) — plus the small screen,
// accessibility and wording fixes. Through the contract's accessible names, as a user sees the page.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { users, videos } from '../../src/db/schema/index';
import { startApi, type RunningApi } from '../../src/server/app';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { startBrowser, type GuardedPage, type TestBrowser } from '../helpers/browser';
import { gql } from '../helpers/graphql';
import { seedVideo, SUBMIT, waitFor, waitForStatus } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';

const PIPELINES_FILE = path.resolve(import.meta.dirname, '../pipeline/fixtures/stages/pipelines.json');
let app: TestApp;
let admin: TestUser;
let browser: TestBrowser;
let receiver: Receiver;
let dir: string;
let clip: string;
const pages: GuardedPage[] = [];
const cancelAtEnd: { key: string; jobId: string }[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-dashboard-live-'));
  process.env.HANG_PIDS_DIR = dir;
  app = await startTestApp({ env: { JOB_STAGES: 'probe,thumbnails,transcode', PIPELINES_FILE } });
  admin = await app.createUser({ name: 'root', admin: true });
  receiver = await startReceiver();
  clip = await makeVideo(dir, { format: 'mp4', seconds: 2, audio: true, name: 'garden' });
  browser = await startBrowser();
});
let firstPageOfTest = 0;
beforeEach(() => {
  firstPageOfTest = pages.length;
});
afterEach(() => {
  // The test's pages: no uncaught error (an action's failure is shown, not thrown).
  for (const guarded of pages.slice(firstPageOfTest)) expect(guarded.pageErrors).toEqual([]);
});
afterAll(async () => {
  for (const { key, jobId } of cancelAtEnd) await gql(app.url, key, 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', { id: jobId }).catch(() => {});
  for (const guarded of pages) await guarded.close().catch(() => {});
  await browser?.close();
  await receiver?.close();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function openSignedIn(key: string, url = app.url, hash = '#/videos'): Promise<Page> {
  const guarded = await browser.openPage(url);
  pages.push(guarded);
  const { page } = guarded;
  await page.goto(`${url}/${hash}`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Videos' }).waitFor();
  return page;
}

async function submit(user: TestUser, videoId: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId, model: 'FAST', ...extra } });
  if (res.body.data?.submitJob?.__typename !== 'SubmitJobSuccess') throw new Error(`submitJob failed: ${JSON.stringify(res.body)}`);
  return res.body.data.submitJob.job.id;
}

async function viewerCredits(user: TestUser): Promise<number> {
  return (await gql(app.url, user.key, '{ viewer { credits } }')).body.data.viewer.credits;
}

describe('the dashboard, live', () => {
  it('follows a retried job live to its new terminal state, and clears the old incident report', async () => {
    const user = await app.createUser({ name: 'rhea', credits: 1000 });
    const video = await seedVideo(app, user.id, clip);
    const jobId = await submit(user, video.id, { pipeline: 'slow' }); // its stage runs past its own 1 s limit
    const page = await openSignedIn(user.key, app.url, `#/jobs/${jobId}`);
    const status = page.getByTestId('job-status');
    await status.getByText('TIMED_OUT', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Show incident report' }).click();
    const report = page.getByRole('region', { name: 'Incident report' });
    await report.getByRole('button', { name: 'Copy' }).waitFor();
    const eventsBefore = await page.getByRole('list', { name: 'Events' }).locator(':scope > li').count();

    await page.getByRole('button', { name: 'Retry job' }).click();
    // The second attempt times out too: seen live, without a reload.
    await page.getByText(/attempt 2 of \d+/).waitFor();
    await status.getByText('TIMED_OUT', { exact: true }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Retry job' }).waitFor();
    const events = page.getByRole('list', { name: 'Events' }).locator(':scope > li');
    await waitFor('the new attempt’s events in the log', async () => (await events.count()) > eventsBefore + 1, 15_000);
    expect(await events.last().textContent()).toMatch(/TIMED_OUT/);
    // The log has each event once, in order.
    const sequences = await events.evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-sequence'))));
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    // The first attempt's report is gone: it described another attempt.
    expect(await report.getByRole('button', { name: 'Copy' }).count()).toBe(0);
  });

  it('shows why an action failed when vidq does not answer, beside the control, and lets it be tried again', async () => {
    const user = await app.createUser({ name: 'ines', credits: 1000 });
    const busy = await seedVideo(app, user.id, clip);
    const hanging = await submit(user, busy.id, { pipeline: 'hangs' });
    cancelAtEnd.push({ key: user.key, jobId: hanging });
    await waitForStatus(app, hanging, ['PROCESSING'], 30_000);
    await gql(app.url, user.key, 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename } }', {
      input: { url: `${receiver.url}/ines`, events: ['job.completed'] },
    });
    const page = await openSignedIn(user.key);
    const item = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'garden.mp4' });
    await item.getByRole('button', { name: 'Delete' }).waitFor();

    // vidq stops answering GraphQL requests.
    await page.route('**/graphql', (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback()));
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await item.getByRole('button', { name: 'Delete' }).click();
    const deleteError = item.getByRole('alert').filter({ hasText: 'SERVICE_UNAVAILABLE' });
    await deleteError.waitFor();
    expect(await deleteError.textContent()).toMatch(/vidq did not answer.*Next step: /);
    expect(await item.getByRole('button', { name: 'Delete' }).isEnabled()).toBe(true);
    expect(dialogs).toEqual([expect.stringMatching(/^Delete “garden\.mp4”\?/)]); // asked first

    // The job page's Cancel job, then the Webhooks page's Send test, Rotate secret and Add endpoint.
    await page.unroute('**/graphql');
    await page.goto(`${app.url}/#/jobs/${hanging}`);
    await page.getByTestId('job-status').getByText('PROCESSING', { exact: true }).waitFor();
    await page.route('**/graphql', (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback()));
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('alert').filter({ hasText: 'vidq did not answer' }).waitFor();
    expect(await page.getByRole('button', { name: 'Cancel job' }).isEnabled()).toBe(true);

    await page.unroute('**/graphql');
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'Send test' }).waitFor();
    await page.route('**/graphql', (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback()));
    for (const name of ['Send test', 'Rotate secret']) {
      await page.getByRole('button', { name }).click();
      await page.getByRole('list', { name: 'Webhook endpoints' }).getByRole('alert').filter({ hasText: 'vidq did not answer' }).waitFor();
      expect(await page.getByRole('button', { name }).isEnabled()).toBe(true);
    }
    expect(dialogs.at(-1)).toMatch(/^Rotate the secret of /);
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/more`);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator('form + div').getByRole('alert').filter({ hasText: 'vidq did not answer' }).waitFor();
    expect(await page.getByRole('button', { name: 'Add endpoint' }).isEnabled()).toBe(true);
    await page.unroute('**/graphql');

    // Answered again: the same controls work, and Add endpoint empties its field.
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText(/Endpoint added/).waitFor();
    expect(await page.getByLabel('Endpoint URL').inputValue()).toBe('');
    await page.getByRole('button', { name: 'Send test' }).first().click();
    await page.getByText(/Test event (delivered|queued)/).waitFor({ timeout: 15_000 });

    // A second job for the busy video: the error links to the job it names.
    await page.getByRole('link', { name: 'Videos' }).click();
    await item.getByRole('button', { name: 'Submit job' }).click();
    await item.getByRole('button', { name: 'Submit job' }).click();
    await item.getByRole('alert').filter({ hasText: 'JOB_ALREADY_PROCESSING' }).waitFor();
    await item.getByRole('link', { name: `Open job ${hanging}` }).click();
    await page.waitForURL(new RegExp(`#/jobs/${hanging}$`));
  });

  it('says the connection is lost while vidq restarts, reconnects within seconds and catches up', async () => {
    const user = await app.createUser({ name: 'otto', credits: 1000 });
    const video = await seedVideo(app, user.id, clip);
    // A server of its own, on the same database and workers, to stop and start again on the same port.
    let api: RunningApi = await startApi(app.services);
    const port = api.port;
    try {
      const page = await openSignedIn(user.key, api.url, '#/jobs');
      await page.getByRole('table', { name: 'Jobs' }).waitFor();
      await page.getByText('No jobs yet').waitFor();
      const guarded = pages.at(-1)!;
      await waitFor('the live socket', async () => guarded.requests.some((r) => r.startsWith('WEBSOCKET')), 10_000);

      await api.close();
      const lost = page.getByRole('status').filter({ hasText: /connection .*lost.*reconnecting/i });
      await lost.waitFor({ timeout: 10_000 });
      // Meanwhile a job is submitted elsewhere and finishes.
      const jobId = await submit(user, video.id);
      await waitForStatus(app, jobId, ['COMPLETED'], 60_000);

      api = await startApi(app.services, { port });
      // Back within a few seconds (generous here for a busy machine), and the list caught up.
      await lost.waitFor({ state: 'hidden', timeout: 15_000 });
      const row = page.getByRole('table', { name: 'Jobs' }).locator(`tr[data-job-id="${jobId}"]`);
      await row.getByText('COMPLETED', { exact: true }).waitFor({ timeout: 10_000 });

      // Down again: a page opened meanwhile says vidq did not answer (not the jobs' next step), then loads by itself.
      await api.close();
      await page.getByRole('link', { name: 'Videos' }).click();
      const unavailable = page.getByRole('alert').filter({ hasText: 'SERVICE_UNAVAILABLE' });
      await unavailable.waitFor();
      expect(await unavailable.textContent()).not.toContain('Jobs are retried automatically');
      expect(await unavailable.textContent()).toMatch(/tries again/);
      await page.getByRole('button', { name: 'Retry' }).waitFor();
      api = await startApi(app.services, { port });
      await page.getByRole('heading', { name: 'Upload a video' }).waitFor({ timeout: 15_000 });
    } finally {
      await api.close().catch(() => {});
    }
  });

  it('signs out, saying why, when a request is refused for a revoked key with no socket open', async () => {
    const user = await app.createUser({ name: 'kai', credits: 1000 });
    await seedVideo(app, user.id, clip);
    const page = await openSignedIn(user.key);
    const item = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'garden.mp4' });
    await item.getByRole('button', { name: 'Submit job' }).waitFor();
    expect(pages.at(-1)!.requests.filter((r) => r.startsWith('WEBSOCKET'))).toEqual([]);
    const revoked = await gql(app.url, admin.key, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: user.keyId });
    expect(revoked.body.data.revokeApiKey).toBe(true);

    await item.getByRole('button', { name: 'Submit job' }).click(); // the form asks for the prices: 401
    await page.getByLabel('API key').waitFor({ timeout: 10_000 });
    const reason = page.getByRole('alert').filter({ hasText: 'INVALID_API_KEY' });
    expect(await reason.textContent()).toMatch(/no longer valid.*Next step: Sign in with a valid key/);
    expect(await page.getByRole('link', { name: 'Videos' }).isVisible()).toBe(false);
  });

  it('keeps credits, webhook deliveries and a redelivery note up to date without a reload', async () => {
    const user = await app.createUser({ name: 'lena', credits: 500 });
    await seedVideo(app, user.id, clip);
    const page = await openSignedIn(user.key);
    const header = page.locator('#who');
    await header.getByText('500 credits').waitFor();

    const item = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'garden.mp4' });
    await item.getByRole('button', { name: 'Submit job' }).click();
    await item.getByLabel('Webhook URL (optional)').fill(`${receiver.url}/lena`);
    await item.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/job_/);
    await page.getByTestId('job-status').getByText('COMPLETED', { exact: true }).waitFor({ timeout: 60_000 });
    const credits = await viewerCredits(user);
    expect(credits).toBeLessThan(500);
    await header.getByText(`${credits} credit`).waitFor({ timeout: 10_000 });

    // The delivery is made after the job ended: it shows up, DELIVERED, on the page as it is.
    const deliveries = page.getByRole('region', { name: 'Webhook deliveries' });
    const first = deliveries.locator('li[data-delivery-id]').filter({ hasText: 'job.completed' }).first();
    await first.getByText(/DELIVERED/).waitFor({ timeout: 20_000 });
    await first.getByRole('button', { name: 'Redeliver' }).click();
    await first.getByText('Sent again.').waitFor();
    // The redelivery appears (the list is read again) and the note stays.
    await waitFor('the redelivery in the list', async () => (await deliveries.locator('li[data-delivery-id]').count()) === 2, 20_000);
    await deliveries.locator('li[data-delivery-id]').filter({ hasText: 'DELIVERED' }).nth(1).waitFor({ timeout: 20_000 });
    expect(await deliveries.getByText('Sent again.').isVisible()).toBe(true);
  });

  it('says an upload paused because vidq did not answer, and resumes it on Upload', async () => {
    const user = await app.createUser({ name: 'uma', credits: 10 });
    const page = await openSignedIn(user.key);
    // The upload is created, then its bytes find no server (tus retries for ~20 s, then gives up).
    await page.route('**/uploads/**', (route) => (route.request().method() === 'PATCH' ? route.abort('connectionrefused') : route.fallback()));
    await page.getByLabel('Video file').setInputFiles(clip);
    await page.getByRole('button', { name: 'Upload' }).click();
    const paused = page.getByRole('alert').filter({ hasText: 'The upload paused' });
    await paused.waitFor({ timeout: 45_000 });
    const text = await paused.textContent();
    expect(text).toMatch(/vidq did not answer.*Next step: Click Upload again/);
    expect(text).not.toContain('[object ProgressEvent]');
    await page.unroute('**/uploads/**');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText('Uploaded garden.mp4.').waitFor({ timeout: 30_000 });
  });

  it('fits a 375 px screen, names the current page, focuses its heading, and says "1 credit"', async () => {
    const user = await app.createUser({ name: 'mo', credits: 1 });
    const video = await seedVideo(app, user.id, clip);
    const page = await openSignedIn(user.key);
    await page
      .locator('#who')
      .getByText(/· 1 credit $/)
      .waitFor();
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByText('No jobs yet').waitFor();
    expect(await page.getByRole('link', { name: 'Jobs' }).getAttribute('aria-current')).toBe('page');
    expect(await page.getByRole('link', { name: 'Videos' }).getAttribute('aria-current')).toBeNull();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Jobs');

    // A titled video's jobs show its title; the table scrolls inside its box on a phone.
    await app.services.database.db.update(videos).set({ title: 'Garden tour' }).where(eq(videos.id, video.id));
    await app.services.database.db.update(users).set({ credits: 100 }).where(eq(users.id, user.id));
    const jobId = await submit(user, video.id, { pipeline: 'slow' });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await row.getByText('Garden tour').waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: `Job ${jobId}` }).waitFor();
    await waitFor('the job heading focused', async () => (await page.evaluate(() => document.activeElement?.textContent)) === `Job ${jobId}`, 5_000);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });

    // The job form: Escape closes it; its colours are named for what they do.
    await page.getByRole('link', { name: 'Videos' }).click();
    const item = page.getByRole('list', { name: 'Videos' }).getByRole('listitem').filter({ hasText: 'Garden tour' });
    await item.getByRole('button', { name: 'Submit job' }).click();
    const form = item.getByRole('form');
    await form.getByLabel('Colour to remove').waitFor();
    await form.getByLabel('Replace with').waitFor();
    await page.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    const described = await item
      .getByRole('button', { name: 'Delete' })
      .evaluate((b) => document.getElementById(b.getAttribute('aria-describedby')!)?.textContent);
    expect(described).toBe('Garden tour');
  });
});
