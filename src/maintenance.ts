// The scheduled maintenance job: every five minutes one worker (whichever pg-boss hands it to) removes
// jobs and webhook deliveries past JOB_RETENTION_HOURS, re-enqueues deliveries whose queue job went
// missing, aborts the multipart uploads of processes that died mid-put and deletes the objects earlier
// deletes left (a storage outage). Each domain owns its own part; this file only schedules them.
import { removeExpiredJobs } from './jobs/retention';
import { QUEUES } from './queue/queues';
import type { Services } from './services';
import { deleteLeftovers } from './storage/deletions';
import { abortAbandonedUploads } from './storage/upload-journal';
import { removeExpiredDeliveries, resumeStrandedDeliveries } from './webhooks/housekeeping';

const MAINTENANCE_CRON = '*/5 * * * *';

export async function startMaintenance(services: Services): Promise<void> {
  const { boss } = services;
  await boss.work(QUEUES.maintenance, async () => {
    await removeExpiredJobs(services);
    await removeExpiredDeliveries(services);
    await resumeStrandedDeliveries(services);
    await abortAbandonedUploads(services);
    await deleteLeftovers({ db: services.database.db, storage: services.storage, log: services.log });
  });
  await boss.schedule(QUEUES.maintenance, MAINTENANCE_CRON, { task: 'retention' });
}
