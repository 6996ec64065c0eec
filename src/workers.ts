// Everything a worker process runs. Started by `vidq serve` with ROLE=all or ROLE=worker.
import { startProcessingWorkers } from './jobs/worker';
import type { Services } from './services';

export interface Workers {
  stop(): Promise<void>;
}

export async function startWorkers(services: Services): Promise<Workers> {
  const processing = await startProcessingWorkers(services);
  return {
    async stop() {
      await processing.stop();
    },
  };
}
