// Everything a worker process runs. Started by `vidq serve` with ROLE=all or ROLE=worker.
import { startAlertWorkers } from './alerts/worker';
import { handOnOrphanedJobs, killLeftoverStageProcesses } from './jobs/crash-recovery';
import { startProcessingWorkers } from './jobs/worker';
import { SCRATCH_SWEEP_MS, sweepJobScratch } from './jobs/workspace';
import { startMaintenance } from './maintenance';
import type { Services } from './services';
import { resumeOrphanedDeliveries } from './webhooks/crash-recovery';
import { startWebhookWorkers } from './webhooks/worker';

export interface Workers {
  /** Called as soon as a stop begins (stop() itself comes after the API has closed). */
  stopping(): void;
  stop(): Promise<void>;
}

/** How often a worker looks for work orphaned by a dead worker: the bulk of the time to hand it on. */
const CRASH_SWEEP_MS = 500;

export async function startWorkers(services: Services): Promise<Workers> {
  await sweepJobScratch(services);
  await killLeftoverStageProcesses(services);
  const processing = await startProcessingWorkers(services);
  const webhooks = await startWebhookWorkers(services);
  const alerting = await startAlertWorkers(services);
  await startMaintenance(services);
  const stopCrashSweeps = sweepForCrashes(services);
  // On a timer of its own: removing a crashed attempt's gigabytes must not hold up the crash sweeps.
  const scratchSweeps = setInterval(() => {
    sweepJobScratch(services).catch((err) => services.log.debug({ err }, 'scratch sweep failed; trying again later'));
  }, SCRATCH_SWEEP_MS);
  scratchSweeps.unref();
  const stopSweeps = () => {
    stopCrashSweeps();
    clearInterval(scratchSweeps);
  };
  return {
    stopping: () => processing.stopping(),
    async stop() {
      processing.stopping();
      stopSweeps();
      // Deliveries first: they finish within the webhook timeout and record their outcome.
      await webhooks.stop();
      await alerting.stop();
      await processing.stop();
    },
  };
}

/** How often a worker looks for stage processes that attempts over left on its machine (reads /proc). */
const LEFTOVER_SWEEP_EVERY = 120; // crash sweeps: once a minute

function sweepForCrashes(services: Services): () => void {
  let running = false;
  let rounds = 0;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      await handOnOrphanedJobs(services);
      await resumeOrphanedDeliveries(services);
      if (++rounds % LEFTOVER_SWEEP_EVERY === 0) await killLeftoverStageProcesses(services);
    } catch (err) {
      services.log.debug({ err }, 'crash-recovery sweep failed; trying again shortly');
    } finally {
      running = false;
    }
  }, CRASH_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
