// The Grafana dashboard and the Prometheus alert rules in examples/ may only use metrics vidq exports:
// a renamed metric would otherwise leave a panel or an alert silently empty. The rules themselves are
// run by Prometheus's own engine (promtool) against their unit tests.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { registry } from '../../src/metrics/index';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
const RULES = path.join(EXAMPLES, 'prometheus');

/** promtool from PROMTOOL, the PATH, or Debian's prometheus package; a clear failure when there is none. */
function findPromtool(): string {
  const candidates = [
    process.env.PROMTOOL,
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => dir && path.join(dir, 'promtool')),
    '/usr/bin/promtool',
  ];
  const found = candidates.find((file): file is string => !!file && existsSync(file));
  if (!found)
    throw new Error(
      "promtool is not installed: the alert rules' tests need Prometheus's promtool, from Debian's `prometheus` package " +
        '(apt-get install -y prometheus, or PROMTOOL=/path/to/promtool; .ci/run unpacks it when it is missing).',
    );
  return found;
}

async function promtool(...args: string[]): Promise<string> {
  const run = await promisify(execFile)(findPromtool(), args, { cwd: RULES }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`promtool ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
  });
  return run.stdout + run.stderr;
}

const used = (text: string) => [...new Set([...text.matchAll(/\bvidq_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, '')))];

describe('examples/grafana and examples/prometheus', () => {
  it('the dashboard queries only exported metrics, and shows every family the issue lists', async () => {
    const dashboard = JSON.parse(await fs.readFile(path.join(EXAMPLES, 'grafana/vidq-dashboard.json'), 'utf8'));
    const exprs = dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr)).join('\n');
    expect(used(exprs).filter((name) => !exported.has(name))).toEqual([]);
    for (const family of [
      'vidq_jobs_total',
      'vidq_job_retries_total',
      'vidq_stage_duration_seconds',
      'vidq_queue_depth',
      'vidq_queue_oldest_age_seconds',
      'vidq_webhook_deliveries_total',
      'vidq_webhook_delivery_seconds',
      'vidq_uploads_total',
    ]) {
      expect(used(exprs)).toContain(family);
    }
  });

  it('the alert rules use only exported metrics and cover timeouts, failure rate, a stuck queue, open circuits, and being unable to watch', async () => {
    const rules = await fs.readFile(path.join(EXAMPLES, 'prometheus/vidq-alerts.yml'), 'utf8');
    expect(used(rules).filter((name) => !exported.has(name))).toEqual([]);
    for (const alert of [
      'VidqJobsTimingOut',
      'VidqJobFailureRateHigh',
      'VidqQueueStuck',
      'VidqWebhookCircuitsOpen',
      'VidqClusterGaugesUnread',
      'VidqTargetDown',
      'VidqAdminAlertDeliveriesFailing',
    ])
      expect(rules).toContain(`alert: ${alert}`);
  });

  it('the alert rules load in Prometheus and pass their unit tests (vidq-alerts.test.yml)', async () => {
    expect(await promtool('check', 'rules', 'vidq-alerts.yml')).toContain('SUCCESS');
    expect(await promtool('test', 'rules', 'vidq-alerts.test.yml')).toContain('SUCCESS');
  });
});
