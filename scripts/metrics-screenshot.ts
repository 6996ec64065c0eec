// `npm run screenshots:metrics`: the README's picture of vidq's metrics (docs/metrics.png), taken off a
// real Prometheus scraping a real `vidq serve` for a few minutes of traffic: uploads (one refused), jobs
// that complete, time out and are cancelled, webhooks that land and fail. Grafana is not packaged for
// Debian, so the panels are Prometheus's own graph page, with the queries of
// examples/grafana/vidq-dashboard.json (shorter rate windows, for a short run).
// Needs `prometheus` (Debian's package, or PROMETHEUS=path) and Chromium, as `npm run screenshots`.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { createVidqClient } from '@vidq/client';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../test/helpers/browser';
import { makeVideo } from '../test/helpers/media';
import { freePort } from '../test/helpers/pg-urls';
import { ROOT, startVidqServe } from './lib/vidq-serve';

const run = promisify(execFile);
const PROMETHEUS = process.env.PROMETHEUS ?? 'prometheus';
/** How long the traffic runs; the graphs show the last RANGE of it. */
const TRAFFIC_MS = Number(process.env.TRAFFIC_SECONDS ?? 240) * 1000;
const RANGE = '5m';

/** The board's panels (examples/grafana/vidq-dashboard.json), rate windows shortened to 1–2 minutes. */
const PANELS = [
  { title: 'Jobs finished by status (per minute)', expr: 'sum by (status) (rate(vidq_jobs_total[1m])) * 60' },
  {
    title: 'Stage duration p95 (s)',
    expr: 'histogram_quantile(0.95, sum by (le, stage) (rate(vidq_stage_duration_seconds_bucket{status="COMPLETED"}[2m])))',
  },
  { title: 'Queue depth by pipeline', expr: 'max by (pipeline) (vidq_queue_depth)' },
  { title: 'Webhook deliveries (per minute)', expr: 'sum by (result) (rate(vidq_webhook_deliveries_total[1m])) * 60' },
  { title: 'Uploads by result (per minute)', expr: 'sum by (result) (rate(vidq_uploads_total[2m])) * 60' },
  {
    title: 'GraphQL p95 by operation (s)',
    expr: 'histogram_quantile(0.95, sum by (le, operation) (rate(vidq_graphql_request_duration_seconds_bucket[1m])))',
  },
];

/** Prometheus's graph page as a board: two panels a row, each its title, graph and legend. */
const BOARD_CSS = `
  nav, .query-history, .form-inline, .eval_stats, .nav-tabs, .graph_container > .clearfix, a[name=remove],
  #add_graph, input[type=submit], .btn, .spinner { display: none !important; }
  #graph_container { display: grid; grid-template-columns: 1fr 1fr; gap: 12px 24px; padding-top: 8px; }
  #graph_container > .clearfix { display: none; }
  .graph_wrapper h2 { font-size: 17px; margin: 6px 0 2px; }
  .expression_input { font-size: 11px; color: #666; border: none; padding: 0; height: auto; resize: none; }
  body { padding-top: 0 !important; }
`;

await run(PROMETHEUS, ['--version']).catch((error: Error) => {
  console.error(`${PROMETHEUS} did not start (${error.message}): apt-get install prometheus, or set PROMETHEUS to its path`);
  process.exit(1);
});

const [promPort, receiverPort] = [await freePort(), await freePort()];
const token = 'metrics-token-for-the-picture';
const vidq = await startVidqServe('metrics-shot', {
  METRICS_TOKEN: token,
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_MAX_RETRIES: '1',
  WEBHOOK_RETRY_BASE_SECONDS: '2',
});
const { work, url, port, cli } = vidq;

// A webhook receiver: /ok answers 204, /down 503 (its deliveries are retried, then given up).
const receiver = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(req.url === '/ok' ? 204 : 503).end());
});
await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));

await fs.writeFile(path.join(work, 'token'), token);
await fs.writeFile(
  path.join(work, 'prometheus.yml'),
  [
    'global: { scrape_interval: 2s }',
    'scrape_configs:',
    '  - job_name: vidq',
    `    authorization: { type: Bearer, credentials_file: ${path.join(work, 'token')} }`,
    `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
    '',
  ].join('\n'),
);

const prometheus = spawn(
  PROMETHEUS,
  [`--config.file=${path.join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(work, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`],
  { stdio: 'ignore' },
);
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
try {
  const user = await cli('users', 'create', '--name', 'Dana', '--admin', '--credits', '100000');
  const { key } = await cli('keys', 'create', '--user', user.id);
  const vidq = createVidqClient({ url, apiKey: key });
  const clips = [
    await makeVideo(work, { format: 'mp4', seconds: 4, width: 640, height: 360, scenes: true }),
    await makeVideo(work, { format: 'mov', seconds: 6, width: 640, height: 360 }),
    await makeVideo(work, { format: 'webm', seconds: 3, width: 480, height: 270 }),
  ];
  const long = await makeVideo(work, { format: 'mp4', seconds: 20, width: 1280, height: 720 }); // outlasts a 1 s limit
  const broken = path.join(work, 'broken.mp4');
  await fs.writeFile(broken, Buffer.alloc(200_000, 7));
  const cancel = async (jobId: string) =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'mutation($id: ID!) { cancelJob(id: $id) { __typename } }', variables: { id: jobId } }),
    });

  const until = Date.now() + TRAFFIC_MS;
  const running: Promise<unknown>[] = [];
  const ended = new Map<string, number>();
  const follow = (jobId: string) =>
    running.push(
      vidq.waitForJob(jobId).then(
        (job) => ended.set(job.status, (ended.get(job.status) ?? 0) + 1),
        () => {},
      ),
    );
  const submit = async (round: number, clip: string) => {
    const timeoutSeconds = round % 9 === 8 ? 1 : undefined;
    const video = await vidq.upload(timeoutSeconds ? long : clip);
    const webhookUrl = `http://127.0.0.1:${receiverPort}/${round % 5 === 4 ? 'down' : 'ok'}`;
    const model = timeoutSeconds || round % 3 === 0 ? 'ORIGINAL' : 'FAST';
    return vidq.submitJob({ videoId: video.id, model, webhookUrl, timeoutSeconds });
  };
  for (let round = 0; Date.now() < until; round++) {
    if (round % 7 === 6) {
      await vidq.upload(broken).catch(() => {}); // refused: counted by its error code
    } else if (round % 25 === 12) {
      // A burst: more jobs than the workers take at once, so the queue fills and drains.
      const videos = await Promise.all(Array.from({ length: 8 }, (_, i) => vidq.upload(clips[i % clips.length])));
      for (const video of videos) {
        const job = await vidq.submitJob({ videoId: video.id, model: 'FAST', webhookUrl: `http://127.0.0.1:${receiverPort}/ok` });
        follow(job.id);
      }
    } else {
      const job = await submit(round, clips[round % clips.length]);
      if (round % 11 === 10) await cancel(job.id);
      follow(job.id);
    }
    await new Promise((r) => setTimeout(r, 2500));
  }
  await Promise.all(running);
  console.log(`jobs ended: ${[...ended].map(([status, n]) => `${n} ${status}`).join(', ')}`);
  await vidq.close();
  await new Promise((r) => setTimeout(r, 10_000)); // the last deliveries and scrapes

  const query = PANELS.map(({ expr }, i) => `g${i}.expr=${encodeURIComponent(expr)}&g${i}.tab=0&g${i}.range_input=${RANGE}`).join('&');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // The layout is in place before the graphs are drawn, so that each is drawn at its panel's width.
  await page.addInitScript((css) => {
    document.addEventListener('DOMContentLoaded', () => document.head.append(Object.assign(document.createElement('style'), { textContent: css })));
  }, BOARD_CSS);
  await page.goto(`http://127.0.0.1:${promPort}/graph?${query}`);
  await page.waitForTimeout(3000);
  await page.evaluate(
    (titles) => {
      (document.activeElement as HTMLElement | null)?.blur();
      document.querySelectorAll('.graph_wrapper').forEach((wrapper, i) => {
        const heading = document.createElement('h2');
        heading.textContent = titles[i] ?? '';
        wrapper.prepend(heading);
      });
    },
    PANELS.map((p) => p.title),
  );
  await page.screenshot({ path: path.join(ROOT, 'docs', 'metrics.png'), fullPage: true });
  console.log('wrote docs/metrics.png');
} finally {
  await browser.close();
  prometheus.kill('SIGTERM');
  await new Promise((r) => prometheus.once('exit', r));
  receiver.close();
  await vidq.stop();
}
