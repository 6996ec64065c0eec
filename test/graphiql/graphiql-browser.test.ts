// GraphiQL in a real Chromium, driven as a person would: keys into its editors, clicks on its run button.
// No request may leave the server's origin (the page must work with no internet), and nothing may
// log an error.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_ASSET_PREFIX } from '../../src/graphiql/assets';
import { startTestApp, type TestApp, type TestUser } from '../helpers/app';
import { type GuardedPage, startBrowser, type TestBrowser } from '../helpers/browser';
import { gql } from '../helpers/graphql';
import { SUBMIT } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';
import { result, upload } from '../helpers/upload';

let mediaDir: string;
let clip: string;
let app: TestApp;
let user: TestUser;
let browser: TestBrowser;
let current: GuardedPage | undefined;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-graphiql-'));
  clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
  // API only: the job submitted below waits in QUEUED until the test starts a worker.
  app = await startTestApp({ env: { ROLE: 'api', JOB_STAGES: 'probe,thumbnails' } });
  user = await app.createUser({ name: 'graphiql' });
  browser = await startBrowser();
});
// One GraphiQL at a time: an open one would write its tabs into the storage the next one starts from.
afterEach(async () => {
  await current?.close();
  current = undefined;
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

/** Opens GraphiQL in a fresh tab and waits until its editors show the example operations. */
async function openGraphiQL(): Promise<GuardedPage> {
  const guarded = await browser.openPage(app.url);
  current = guarded;
  await guarded.page.goto(`${app.url}/graphql`);
  try {
    await guarded.page.locator('.graphiql-query-editor .view-lines').getByText('query Viewer').waitFor({ timeout: 30_000 });
  } catch (error) {
    const { offOriginRequests, consoleErrors, pageErrors } = guarded;
    throw new Error(`GraphiQL did not open: ${(error as Error).message}\n${JSON.stringify({ offOriginRequests, consoleErrors, pageErrors }, null, 2)}`);
  }
  return guarded;
}

/** The text of a Monaco editor, in line order (Monaco positions its line elements; DOM order may differ). */
function editorText(page: Page, selector: string): Promise<string> {
  return page.evaluate((sel) => {
    const lines = [...document.querySelectorAll<HTMLElement>(`${sel} .view-line`)];
    lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
    return lines
      .map((line) => line.textContent ?? '')
      .join('\n')
      .replace(/\u00a0/g, ' ');
  }, selector);
}

const resultText = (page: Page) => editorText(page, '.result-window');

const editorToolSelector = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';

/**
 * Opens the Variables or Headers tab and types `text` over `placeholder`, with the keyboard only: the
 * cursor goes to the placeholder's end, shift+left selects it, and the text is typed in its place.
 */
async function typeOver(page: Page, tab: 'Variables' | 'Headers', placeholder: string, text: string) {
  await page.getByRole('button', { name: tab, exact: true }).click();
  // The tab's editor renders its lines on later animation frames: wait for the placeholder to show.
  const shown = await editorTextWhen(page, editorToolSelector, (text) => text.includes(placeholder));
  const lines = shown.split('\n');
  const row = lines.findIndex((line) => line.includes(placeholder));
  if (row < 0) throw new Error(`the ${tab} editor has no ${placeholder}: ${shown}`);
  const after = lines[row].length - lines[row].indexOf(placeholder) - placeholder.length;
  await page.locator(`${editorToolSelector} .monaco-editor`).click();
  await page.keyboard.press('ControlOrMeta+Home');
  for (let i = 0; i < row; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  for (let i = 0; i < after; i++) await page.keyboard.press('ArrowLeft');
  for (let i = 0; i < placeholder.length; i++) await page.keyboard.press('Shift+ArrowLeft');
  await page.keyboard.type(text);
  const typed = await editorTextWhen(page, editorToolSelector, (shownText) => shownText.includes(text));
  if (!typed.includes(text)) throw new Error(`typing into ${tab} gave: ${typed}`);
}

/** The editor's text once `accept` takes it (Monaco renders on animation frames), or as it is after 5 s. */
async function editorTextWhen(page: Page, selector: string, accept: (text: string) => boolean): Promise<string> {
  const until = Date.now() + 5_000;
  let text = await editorText(page, selector);
  while (!accept(text) && Date.now() < until) {
    await page.waitForTimeout(50);
    text = await editorText(page, selector);
  }
  return text;
}

/** Clicks the run button and picks the operation from its menu (the document holds several). */
async function run(page: Page, operationName: string) {
  await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
  await page.getByRole('menuitem', { name: operationName, exact: true }).click();
}

async function waitForResult(page: Page, what: string, accept: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < until) {
    text = await resultText(page);
    if (accept(text)) return text;
    await page.waitForTimeout(100);
  }
  await page.screenshot({ path: path.join(os.tmpdir(), `vidq-graphiql-failure-${Date.now()}.png`) });
  throw new Error(`GraphiQL's result pane never showed ${what}; it shows:\n${text}`);
}

function expectClean(guarded: GuardedPage) {
  expect(guarded.offOriginRequests).toEqual([]);
  expect(guarded.consoleErrors).toEqual([]);
  expect(guarded.pageErrors).toEqual([]);
}

describe('GraphiQL in Chromium', () => {
  it('loads with no request leaving the origin and no error, showing the examples, an ASCII placeholder key and the docs without a key', async () => {
    const guarded = await openGraphiQL();
    const { page } = guarded;

    expect(await editorTextWhen(page, '.graphiql-query-editor', (text) => text.startsWith('# Welcome'))).toMatch(/^# Welcome to vidq's GraphQL API\./);
    await page.getByRole('button', { name: 'Execute query (Ctrl-Enter)' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Viewer', 'Videos', 'SubmitJob', 'JobUpdated']);
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    const headers = await editorTextWhen(page, editorToolSelector, (text) => text.includes('vq_your_key_here'));
    expect(JSON.parse(headers)).toEqual({ Authorization: 'Bearer vq_your_key_here' });

    // The schema came with the page: the docs show the API before any key is typed in.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('Query', { exact: true }).click();
    await docs.getByText('The user the API key belongs to.').waitFor();

    // Monaco's three kinds of workers started, from vidq's own files.
    for (const worker of ['editor', 'json', 'graphql']) {
      expect(guarded.requests).toContain(`GET ${app.url}${GRAPHIQL_ASSET_PREFIX}${worker}.worker.js`);
    }
    // Nothing was asked of the API: no request went to it without a key (it would be a 401).
    expect(guarded.requests.filter((r) => r.startsWith('POST '))).toEqual([]);
    expectClean(guarded);
  });

  it('runs the Viewer query with the key put into the Headers tab and shows the result', async () => {
    const guarded = await openGraphiQL();
    const { page } = guarded;
    const sent: Array<Record<string, string>> = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url() === `${app.url}/graphql`) sent.push(request.headers());
    });

    await typeOver(page, 'Headers', 'vq_your_key_here', user.key);
    await run(page, 'Viewer');
    const text = await waitForResult(page, 'the viewer', (t) => t.includes(user.id), 20_000);

    expect(JSON.parse(text)).toEqual({ data: { viewer: { id: user.id, name: 'graphiql', credits: 1000, isAdmin: false } } });
    expect(sent.map((h) => h.authorization)).toEqual([`Bearer ${user.key}`]);
    expectClean(guarded);
  });

  it('streams a real job to COMPLETED with the JobUpdated subscription, over SSE with the Headers tab', async () => {
    const uploaded = result(await upload(app, user.key, { file: clip }));
    expect(uploaded.__typename).toBe('UploadVideoSuccess');
    const submitted = await gql(app.url, user.key, SUBMIT, { input: { videoId: uploaded.video.id } });
    expect(submitted.body.data.submitJob.__typename).toBe('SubmitJobSuccess');
    const jobId: string = submitted.body.data.submitJob.job.id;

    const guarded = await openGraphiQL();
    const { page } = guarded;
    const operations: Array<{ method: string; authorization?: string; contentType?: string }> = [];
    page.on('response', (response) => {
      const request = response.request();
      if (new URL(request.url()).pathname === '/graphql' && request.resourceType() === 'fetch') {
        operations.push({ method: request.method(), authorization: request.headers().authorization, contentType: response.headers()['content-type'] });
      }
    });

    await typeOver(page, 'Headers', 'vq_your_key_here', user.key);
    await typeOver(page, 'Variables', 'job_paste_a_job_id', jobId);
    await run(page, 'JobUpdated');

    // No worker runs yet: the stream shows the job waiting…
    const queued = JSON.parse(await waitForResult(page, 'the QUEUED event', (t) => t.includes('"QUEUED"')));
    expect(queued).toEqual({ data: { jobUpdated: { __typename: 'JobEvent', sequence: 1, type: 'QUEUED', status: 'QUEUED', stage: null, progress: 0 } } });

    // …then a worker starts, and the rest arrives live on the same stream.
    const worker = await startTestApp({ env: { ROLE: 'worker' }, database: app.database, dataDir: app.dataDir });
    try {
      const done = JSON.parse(await waitForResult(page, 'the COMPLETED event', (t) => t.includes('"COMPLETED"'), 90_000));
      expect(done.data.jobUpdated).toMatchObject({ __typename: 'JobEvent', type: 'COMPLETED', status: 'COMPLETED', progress: 1 });
      expect(done.data.jobUpdated.sequence).toBeGreaterThan(1);
    } finally {
      await worker.close();
    }

    // One request, carrying the key from the Headers tab, answered with an event stream.
    expect(operations).toEqual([{ method: 'GET', authorization: `Bearer ${user.key}`, contentType: expect.stringMatching(/^text\/event-stream/) }]);
    expect(guarded.requests.filter((r) => r.startsWith('WEBSOCKET'))).toEqual([]);
    expectClean(guarded);
  });
});
