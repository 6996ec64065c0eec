// The processing workers running now, and which pipelines each serves (WORKER_PIPELINES). A row is
// live while its process lease is held (leaseHeldSql): a dead worker's row is simply ignored, and
// removed by the next stuck-queue scan. Read to tell an operator which pipeline has no worker.
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const workerProcesses = pgTable('worker_processes', {
  /** The process's lease id (src/db/process-lease.ts). */
  leaseId: bigint({ mode: 'number' }).primaryKey(),
  pipelines: text().array().notNull(),
  host: text().notNull(),
  pid: integer().notNull(),
  startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type WorkerProcessRow = typeof workerProcesses.$inferSelect;
