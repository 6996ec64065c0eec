// The processing workers of this process: pg-boss work() on the video-processing queue, and a graceful stop (running jobs get the grace period, then are aborted so that pg-boss
// hands them to another worker).
import type { PgBoss } from 'pg-boss';
import { processingQueue } from '../queue/queues';
import type { Services } from '../services';
import { createProcessingHandler, NoLongerOwned, type ProcessingState, STOP_WAIT_MS } from './handler';
import { registerWorker, unregisterWorker } from './worker-registry';

export interface ProcessingWorkers {
  running: Map<string, AbortController>;
  /** The process has begun to stop (a signal came): a job's failure from now on may be the stop's doing. */
  stopping(): void;
  stop(): Promise<void>;
}

export async function startProcessingWorkers(services: Services): Promise<ProcessingWorkers> {
  const { boss, config } = services;
  const state: ProcessingState = { shuttingDown: false, stoppingSince: null, running: new Map<string, AbortController>() };
  const handler = createProcessingHandler(services, state);
  // Our lease went with its connection: another worker is taking these jobs over right now.
  services.lease.onLost(() => {
    for (const controller of state.running.values()) controller.abort(new NoLongerOwned('process lease lost'));
  });
  // One queue per pipeline: this worker fetches only jobs of the pipelines it serves (WORKER_PIPELINES).
  const pipelines = services.stages.checkServed(config.workerPipelines);
  const options = {
    includeMetadata: true as const,
    batchSize: 1,
    localConcurrency: config.workerConcurrency,
    // New jobs wake the worker through NOTIFY; retries come due silently, so keep polling briskly too.
    pollingIntervalSeconds: 0.5,
    notifyPollingIntervalSeconds: 0.5,
    heartbeatRefreshSeconds: Math.max(1, Math.floor(config.heartbeatSeconds / 3)),
  };
  for (const pipeline of pipelines) await boss.work(processingQueue(pipeline), options, handler);
  await registerWorker(services, pipelines);
  services.lease.onRenewed(() => void registerWorker(services, pipelines).catch((err) => services.log.warn({ err }, 'worker registration failed')));
  return {
    running: state.running,
    stopping() {
      state.shuttingDown = true;
      state.stoppingSince ??= Date.now();
    },
    async stop() {
      state.shuttingDown = true;
      state.stoppingSince ??= Date.now();
      await unregisterWorker(services).catch(() => {}); // gone with the lease anyway
      await stopWorkers(boss, config.shutdownGraceSeconds);
      // Aborted handlers still hand their jobs back before they return: a stage may take STOP_WAIT_MS to
      // stop, then the hand-back is written. Closing the database under them would lose it.
      const until = Date.now() + STOP_WAIT_MS + 3000;
      while (state.running.size && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

/** Stops fetching; waits up to the grace period for running jobs; then fails (→ retried elsewhere) and aborts them. */
async function stopWorkers(boss: PgBoss, graceSeconds: number) {
  await boss.stop({ graceful: true, close: false, timeout: Math.max(graceSeconds, 0.1) * 1000 });
}
