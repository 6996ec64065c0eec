// The cluster-wide gauges, read from PostgreSQL when /metrics is scraped and cached for a second, so
// that frequent scrapes (several Prometheus replicas, several processes) cost one read per second.
import type { Services } from '../services';
import { JOB_TARGET } from '../webhooks/events';
import { metrics } from './index';

const CACHE_MS = 1000;
const lastRead = new WeakMap<object, { at: number; done: Promise<void> }>();

/**
 * Reads the gauges; vidq_cluster_gauges_ok says whether this read worked. On a failure the other gauges
 * keep their last values rather than being reset: a queue-stuck alert already firing would otherwise
 * resolve in the middle of a database outage (its series gone, or back at 0), and an empty panel says no
 * more than a frozen one. The outage itself alerts through vidq_cluster_gauges_ok = 0.
 */
export function refreshClusterGauges(services: Pick<Services, 'database' | 'stages'>): Promise<void> {
  const cached = lastRead.get(services.database);
  if (cached && Date.now() - cached.at < CACHE_MS) return cached.done;
  const done = read(services).then(
    () => void metrics.clusterGaugesOk.set(1),
    (error: unknown) => {
      metrics.clusterGaugesOk.set(0);
      throw error;
    },
  );
  lastRead.set(services.database, { at: Date.now(), done });
  return done;
}

async function read(services: Pick<Services, 'database' | 'stages'>) {
  const { sql } = services.database;
  const [queued, circuits] = await Promise.all([
    sql<Array<{ pipeline: string; depth: number; oldest: number }>>`
      select pipeline, count(*)::int as depth, coalesce(extract(epoch from now() - min(updated_at)), 0)::float8 as oldest
      from jobs where status = 'QUEUED' group by pipeline`,
    // Circuits that hold deliveries back now; HALF_OPEN (a probe in flight) is still open. A disabled
    // endpoint sends nothing whatever its circuit says. A job's webhookUrl circuit (owner + URL) stays
    // open after its last failure until a success or the idle sweep (housekeeping.ts) removes it: it
    // counts only while a job's delivery to that URL, by that owner, is still PENDING behind it.
    sql<Array<{ open: number }>>`
      select ((select count(*) from webhook_endpoints where circuit_state <> 'CLOSED' and enabled) +
              (select count(*) from webhook_url_circuits c
               where c.circuit_state <> 'CLOSED'
                 and exists (select 1 from webhook_deliveries d
                             where d.owner_id = c.owner_id and d.url = c.url and d.status = 'PENDING'
                               and split_part(d.target_key, '#', 1) = ${JOB_TARGET})))::int as open`,
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
