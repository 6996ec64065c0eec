// The cluster-wide gauges, read from PostgreSQL when /metrics is scraped and cached for a second, so
// that frequent scrapes (several Prometheus replicas, several processes) cost one read per second.
import type { Services } from '../services';
import { metrics } from './index';

const CACHE_MS = 1000;
const lastRead = new WeakMap<object, { at: number; done: Promise<void> }>();

export function refreshClusterGauges(services: Pick<Services, 'database' | 'stages'>): Promise<void> {
  const cached = lastRead.get(services.database);
  if (cached && Date.now() - cached.at < CACHE_MS) return cached.done;
  const done = read(services);
  lastRead.set(services.database, { at: Date.now(), done });
  return done;
}

async function read(services: Pick<Services, 'database' | 'stages'>) {
  const { sql } = services.database;
  const [queued, circuits] = await Promise.all([
    sql<Array<{ pipeline: string; depth: number; oldest: number }>>`
      select pipeline, count(*)::int as depth, coalesce(extract(epoch from now() - min(updated_at)), 0)::float8 as oldest
      from jobs where status = 'QUEUED' group by pipeline`,
    // Endpoints' circuits and jobs' own webhookUrl circuits; HALF_OPEN (a probe in flight) is still open.
    sql<Array<{ open: number }>>`
      select ((select count(*) from webhook_endpoints where circuit_state <> 'CLOSED') +
              (select count(*) from webhook_url_circuits where circuit_state <> 'CLOSED'))::int as open`,
  ]);
  metrics.queueDepth.reset();
  metrics.queueOldestAge.reset();
  // Every pipeline of this deployment, zero when nothing waits: a series that vanishes breaks alerts.
  for (const { name } of services.stages.pipelines) {
    metrics.queueDepth.set({ pipeline: name }, 0);
    metrics.queueOldestAge.set({ pipeline: name }, 0);
  }
  for (const row of queued) {
    metrics.queueDepth.set({ pipeline: row.pipeline }, row.depth);
    metrics.queueOldestAge.set({ pipeline: row.pipeline }, Math.round(row.oldest * 10) / 10);
  }
  metrics.webhookCircuitsOpen.set(circuits[0]?.open ?? 0);
}
