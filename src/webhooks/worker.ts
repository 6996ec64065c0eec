// The webhook delivery workers of this process: pg-boss work() on the webhook-delivery queue.
// Each fetched batch is sent concurrently and settled job by job; retries are new queue jobs with
// startAfter (see delivery-run.ts), so a worker never sleeps on a backoff.
import { connectDatabase } from '../db/client';
import type { Services } from '../services';
import { QUEUES } from '../queue/queues';
import { deliverySettings, processBatch, type DeliveryDeps } from './delivery-run';
import { SuccessRecorder } from './delivery-batch';
import type { DeliveryJobData } from './events';

export interface WebhookWorkers {
  stop(): Promise<void>;
}

/**
 * Up to this many deliveries are fetched at once; WEBHOOK_CONCURRENCY (40) is split into such batches,
 * each with its own fetch loop. A batch costs a handful of statements whatever its size (fetch, claim,
 * success, settle), which is what makes throughput (bench/webhooks.ts: 5 per batch reached half the
 * rate of 10); several loops keep one slow receiver from holding up the rest, since a batch is settled
 * once its slowest attempt ends (at most WEBHOOK_TIMEOUT_MS).
 */
const MAX_BATCH = 10;

export async function startWebhookWorkers(services: Services): Promise<WebhookWorkers> {
  const { boss, config } = services;
  // The claim and the success of each attempt commit without waiting for the WAL flush. That loses
  // nothing when a worker dies (the commit is PostgreSQL's, not ours to lose). If PostgreSQL itself
  // crashes, the last fraction of a second of such commits may be lost, which can only make an event
  // be sent again, never lost: the terminal event and its deliveries were committed synchronously,
  // and a lost claim or success leaves the delivery PENDING with its queue job still active (pg-boss
  // completes it, synchronously, after our commit; a flush of that commit flushes ours too). It halves
  // the cost of a delivery on this kind of machine (bench/webhooks.ts).
  const statePool = connectDatabase(services.database.url, {
    max: Math.min(config.webhookConcurrency, 10),
    applicationName: `vidq-${config.role}-webhooks`,
    synchronousCommit: 'off',
  });
  const stateSql = statePool.sql;
  const deps: DeliveryDeps = {
    database: services.database,
    boss,
    log: services.log.child({ queue: QUEUES.webhookDelivery }),
    settings: deliverySettings(config),
    stateSql,
    recorder: new SuccessRecorder(stateSql),
    lease: services.lease,
  };
  const batchSize = Math.min(MAX_BATCH, config.webhookConcurrency);
  await boss.work<DeliveryJobData>(
    QUEUES.webhookDelivery,
    {
      batchSize,
      localConcurrency: Math.ceil(config.webhookConcurrency / batchSize),
      perJobResults: true as const,
      burstWhenBatchFull: true,
      // New deliveries wake the worker through NOTIFY; retries come due silently, so poll briskly too.
      pollingIntervalSeconds: 0.5,
      notifyPollingIntervalSeconds: 0.5,
      heartbeatRefreshSeconds: Math.max(1, Math.floor(config.heartbeatSeconds / 3)),
    },
    async (jobs) => {
      const outcomes = await processBatch(deps, jobs);
      return jobs.map((job, i) => {
        const outcome = outcomes[i];
        if (!(outcome instanceof Error)) return { id: job.id, status: 'completed' as const };
        // The database went away or similar: pg-boss retries this queue job, and the delivery's
        // lease lets the retry pick up exactly where this run stopped.
        deps.log.error({ err: outcome, deliveryId: job.data.deliveryId, queueJobId: job.id }, 'webhook delivery run failed; the queue retries it');
        return { id: job.id, status: 'failed' as const, output: { message: outcome.message } };
      });
    },
  );
  return {
    async stop() {
      // Let in-flight attempts record their outcome (each is bounded by the timeout), but never wait
      // longer than the shutdown grace: a run cut short is recovered as a lost attempt.
      const grace = new Promise<void>((resolve) => setTimeout(resolve, Math.max(config.shutdownGraceSeconds, 0.1) * 1000).unref());
      await Promise.race([boss.offWork(QUEUES.webhookDelivery, { wait: true }), grace]);
      await statePool.close();
    },
  };
}
