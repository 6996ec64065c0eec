// A worker process's liveness, as PostgreSQL sees it: a session-level advisory lock held on a
// connection of its own. When the process dies (even SIGKILL) the kernel closes that socket, the
// backend ends and the lock is released in the same instant, so anything the worker was running is
// known to be orphaned at once, without waiting for a missed heartbeat. Work the worker takes is
// tagged with the lock's key (jobs.worker_lock, webhook_deliveries.worker_lock); see the crash
// recovery sweeps in src/jobs and src/webhooks.
//
// A worker that is alive but cut off from the database loses its session too once the server's TCP
// keepalives give up on it (DB_KEEPALIVE below): its lock goes, its work is handed on, and the worker
// is told (onLost) to stop what it runs, because it no longer owns it.
import { randomInt } from 'node:crypto';
import postgres from 'postgres';
import type { Logger } from '../logger';
import { SERVER_KEEPALIVES } from '../db/client';

/** The first half of the two-int4 advisory lock key: "vdq" + 1. Keys are (LIVENESS_LOCK_CLASS, worker key). */
export const LIVENESS_LOCK_CLASS = 0x76647101;

/**
 * SQL condition (on a column holding a worker key) that is true while that worker's session holds its
 * lock, i.e. the worker is alive. Reading pg_locks takes no lock and writes nothing.
 */
export function livenessHeldSql(column: string): string {
  return `exists (select 1 from pg_locks l
    where l.locktype = 'advisory' and l.granted and l.objsubid = 2
      and l.database = (select oid from pg_database where datname = current_database())
      and l.classid = ${LIVENESS_LOCK_CLASS}::oid and l.objid = ${column}::oid)`;
}

export interface WorkerLiveness {
  /** The key of the lock this process holds now, taking a new one if the last was lost. */
  key(): Promise<number>;
  /** Called when the lock is lost with its connection: whatever was tagged with the old key is no longer ours. */
  onLost(listener: (lostKey: number) => void): void;
  close(): Promise<void>;
}

export async function holdLiveness(url: string, applicationName: string, log: Logger): Promise<WorkerLiveness> {
  const listeners: Array<(key: number) => void> = [];
  let held: number | null = null;
  let closing = false;
  const sql = postgres(url, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null, // a recycled connection would drop the lock
    connect_timeout: 5,
    keep_alive: 10,
    onnotice: () => {},
    connection: { application_name: `${applicationName}-liveness`, ...SERVER_KEEPALIVES },
    onclose: () => {
      if (held === null || closing) return;
      const lost = held;
      held = null;
      log.warn({ workerLock: lost }, 'worker liveness lock lost with its database connection: running work is handed on');
      for (const listener of listeners) listener(lost);
    },
  });

  let acquiring: Promise<number> | null = null;
  async function acquire(): Promise<number> {
    for (;;) {
      const candidate = randomInt(1, 2 ** 31 - 1);
      const [row] = await sql<{ ok: boolean }[]>`select pg_try_advisory_lock(${LIVENESS_LOCK_CLASS}, ${candidate}) as ok`;
      if (row.ok) {
        held = candidate;
        return candidate;
      }
    }
  }

  await acquire();
  return {
    key() {
      if (held !== null) return Promise.resolve(held);
      acquiring ??= acquire().finally(() => (acquiring = null));
      return acquiring;
    },
    onLost(listener) {
      listeners.push(listener);
    },
    async close() {
      closing = true;
      await sql.end({ timeout: 5 });
    },
  };
}
