// Boot order and graceful shutdown of `vidq serve` (what `npm start` runs).
import { type Config, ConfigError, loadConfig, type Role } from './config';
import { handleUncaughtExceptions } from './db/unheard-errors';
import { createLogger, drainLogs } from './logger';
import { startWorkerMetricsServer, type WorkerMetricsServer } from './metrics/worker-server';
import { startRuntime } from './runtime';
import { checkStartRequirements } from './start-checks';
import type { RunningApi } from './server/app';
import { startWorkers, type Workers } from './workers';

export async function serve(overrides: { role?: Role } = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  if (overrides.role) config = { ...config, role: overrides.role };
  const log = createLogger(config.logLevel, { role: config.role });
  handleUncaughtExceptions(log);

  const runtime = await startRuntime(config, log);
  // After the database (a DATABASE_URL mistake is named first, and nothing is written before it).
  await checkStartRequirements(config).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  // What has started so far (filled while starting; read by shutdown whenever a signal comes).
  const started: { api: RunningApi | null; workers: Workers | null; metrics: WorkerMetricsServer | null } = { api: null, workers: null, metrics: null };
  let stopping = false;
  // Signals are handled from here on: one that arrives while the API answers but the workers are still
  // starting waits for the start to finish, then stops everything gracefully (exit 0).
  let starting: Promise<unknown> = Promise.resolve();
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    await starting.catch(() => {});
    started.workers?.stopping();
    log.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down');
    await started.api?.close(); // stop taking requests first
    await started.metrics?.close();
    await started.workers?.stop(); // running jobs get the grace period, then go back to the queue
    await runtime.close();
    log.info('stopped');
    process.exit(0);
  };
  // The embedded cluster is part of this process: without it nothing works, and answering 503 forever
  // would hide that. Exit non-zero so that a supervisor restarts the whole (running jobs are resumed).
  // Watched from before the start, so that a cluster lost while the workers are starting ends it alike.
  runtime.onDatabaseLost((how) => {
    if (stopping) return;
    stopping = true;
    log.fatal({ how }, 'the embedded PostgreSQL stopped under vidq: exiting so that a supervisor restarts it');
    const forced = setTimeout(() => process.exit(1), 5000);
    forced.unref();
    // The fatal lines are drained first: written asynchronously, they could be lost at exit.
    void Promise.allSettled([started.api?.close(), started.workers?.stop(), drainLogs()]).finally(() => process.exit(1));
  });
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  starting = (async () => {
    // Imported only where it runs: a worker-only process never loads the GraphQL schema (nor Pothos).
    if (config.role !== 'worker') started.api = await (await import('./server/app')).startApi(runtime.services);
    if (config.role !== 'api') started.workers = await startWorkers(runtime.services);
    // A worker-only process answers /metrics and /health on METRICS_PORT (its counters are its own).
    if (config.role === 'worker' && config.metricsPort !== undefined) started.metrics = await startWorkerMetricsServer(runtime.services);
  })();
  try {
    await starting;
  } catch (error) {
    if (stopping) return new Promise<void>(() => {}); // the cluster died under the start: its handler exits
    await started.api?.close();
    await started.workers?.stop();
    await runtime.close();
    throw error;
  }
  log.info({ storage: config.storageDriver, workerConcurrency: config.role === 'api' ? 0 : config.workerConcurrency }, 'vidq started');
  // Jobs, retries and deliveries are counted by the process that runs them: without METRICS_PORT this
  // worker's counts reach no Prometheus, and the alerts on them stay quiet whatever happens here.
  if (config.role !== 'worker' && config.metricsPort !== undefined) {
    log.warn(
      { metricsPort: config.metricsPort },
      `METRICS_PORT is used by worker-only processes (ROLE=worker); this ${config.role} process serves /metrics on PORT (${config.port}) instead.`,
    );
  }
  if (config.role === 'worker' && config.metricsPort === undefined) {
    log.warn(
      'METRICS_PORT is not set: this worker serves no /metrics, so the alert rules on jobs and webhook deliveries (timeouts, failure rate, ' +
        'failed deliveries) cannot see what it does. Set METRICS_PORT and add it to the Prometheus scrape targets.',
    );
  }
}
