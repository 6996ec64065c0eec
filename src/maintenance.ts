// The scheduled maintenance job: every five minutes one worker (whichever pg-boss hands it to) removes
// jobs and webhook deliveries past JOB_RETENTION_HOURS, re-enqueues deliveries and jobs whose queue job
// went missing, aborts the multipart uploads of processes that died mid-put and deletes the objects earlier
// deletes left (a storage outage). Each domain owns its own part; this file only schedules them.
import { handOnStrandedJobs } from './jobs/crash-recovery';
import { removeExpiredJobs } from './jobs/retention';
import { QUEUES } from './queue/queues';
import type { Services } from './services';
import { deleteLeftovers } from './storage/deletions';
import { abortAbandonedUploads } from './storage/upload-journal';
import { removeExpiredDeliveries, resumeStrandedDeliveries } from './webhooks/housekeeping';

const MAINTENANCE_CRON = '*/5 * * * *';

/** The steps, by the name the log gives a failed one. */
const STEPS: Array<[string, (services: Services) => Promise<unknown>]> = [
  ['removing expired jobs', removeExpiredJobs],
  ['removing expired webhook deliveries', removeExpiredDeliveries],
  ['re-enqueueing stranded webhook deliveries', resumeStrandedDeliveries],
  ['handing on stranded jobs', handOnStrandedJobs],
  ['aborting abandoned multipart uploads', abortAbandonedUploads],
  ['deleting leftover stored objects', (s) => deleteLeftovers({ db: s.database.db, storage: s.storage, log: s.log })],
];

/**
 * One maintenance run. Each step runs whatever the others did: one that fails (a table locked, the bucket
 * away) is logged with its name and tried again at the next run, and does not hold back the rest.
 * Returns the names of the steps that failed.
 */
export async function runMaintenance(services: Services): Promise<string[]> {
  const failed: string[] = [];
  for (const [step, run] of STEPS) {
    try {
      await run(services);
    } catch (err) {
      failed.push(step);
      services.log.error({ err, step }, `maintenance: ${step} failed; the other steps ran, and the next run (within 5 min) tries it again`);
    }
  }
  return failed;
}

export async function startMaintenance(services: Services): Promise<void> {
  const { boss } = services;
  await boss.work(QUEUES.maintenance, async () => {
    await runMaintenance(services);
  });
  await boss.schedule(QUEUES.maintenance, MAINTENANCE_CRON, { task: 'retention' });
}
