// `npm run screenshots`: the README's pictures of the dashboard (docs/dashboard-*.png), made the way a
// user sees it: `vidq serve` on a fresh embedded database, a user and key from the CLI, a clip uploaded
// and processed through the page in Debian's Chromium.
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../test/helpers/browser';
import { makeVideo } from '../test/helpers/media';
import { ROOT, startVidqServe } from './lib/vidq-serve';

const DOCS = path.join(ROOT, 'docs');

const vidq = await startVidqServe('screenshots');
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
try {
  const { url, work, cli } = vidq;
  const user = await cli('users', 'create', '--name', 'Dana', '--admin', '--credits', '500');
  const { key } = await cli('keys', 'create', '--user', user.id);
  const clip = await makeVideo(work, { format: 'mp4', seconds: 6, audio: true, width: 1280, height: 720, scenes: true, name: 'launch-teaser' });

  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const shot = (name: string) => page.screenshot({ path: path.join(DOCS, `dashboard-${name}.png`), fullPage: true });
  await page.goto(`${url}/`);
  await shot('sign-in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Video file').setInputFiles(clip);
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.getByText('Uploaded launch-teaser.mp4.').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Submit job' }).first().click();
  await page.getByLabel('Model').selectOption('FAST');
  await page.getByText(/^Costs \d+ credits?\b/).waitFor();
  await shot('videos');
  await page.getByRole('button', { name: 'Submit job' }).first().click();
  await page.getByTestId('job-status').getByText('COMPLETED', { exact: true }).waitFor({ timeout: 120_000 });
  await page.getByLabel('Processed video').waitFor();
  await page.waitForTimeout(500);
  await shot('job');
  await page.goto(`${url}/#/jobs`);
  await page.getByRole('table', { name: 'Jobs' }).waitFor();
  await shot('jobs');
  console.log(`wrote ${['sign-in', 'videos', 'job', 'jobs'].map((n) => `docs/dashboard-${n}.png`).join(', ')}`);
} finally {
  await browser.close();
  await vidq.stop();
}
