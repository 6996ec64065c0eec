// Which pipelines the running workers serve: each processing worker writes one row under its lease
// (db/schema/workers.ts), so any process can tell that a pipeline has no worker, e.g. for the
// stuck-queue alert.
import os from 'node:os';
import { eq, sql } from 'drizzle-orm';
import { leaseHeldSql } from '../db/process-lease';
import { workerProcesses } from '../db/schema/index';
import type { Services } from '../services';

export async function registerWorker(services: Pick<Services, 'database' | 'lease'>, pipelines: string[]): Promise<void> {
  const leaseId = await services.lease.key();
  await services.database.db
    .insert(workerProcesses)
    .values({ leaseId, pipelines, host: os.hostname(), pid: process.pid })
    .onConflictDoUpdate({ target: workerProcesses.leaseId, set: { pipelines } });
}

export async function unregisterWorker(services: Pick<Services, 'database' | 'lease'>): Promise<void> {
  await services.database.db.delete(workerProcesses).where(eq(workerProcesses.leaseId, services.lease.id));
}

/** The pipelines some live worker serves; rows of dead workers are removed on the way. */
export async function servedPipelines(services: Pick<Services, 'database'>): Promise<Set<string>> {
  const { db } = services.database;
  await db.delete(workerProcesses).where(sql.raw(`not (${leaseHeldSql('lease_id')})`));
  const rows = await db.select({ pipelines: workerProcesses.pipelines }).from(workerProcesses);
  return new Set(rows.flatMap((r) => r.pipelines));
}
