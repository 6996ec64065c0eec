// This process's lease: a session-level advisory lock, held on a PostgreSQL connection of its own for
// as long as the process lives. When the process dies (even SIGKILL) the kernel closes that socket,
// PostgreSQL ends the session and releases the lock in the same instant; a machine that vanished is
// noticed through TCP keepalives (SERVER_KEEPALIVES, ~20 s). So any process can tell whether another
// is alive by looking for its lock in pg_locks, without a heartbeat. What a process holds is tagged
// with its lease id: the jobs and webhook attempts a worker runs (jobs.worker_lock,
// webhook_deliveries.worker_lock; see the crash-recovery sweeps) and an API process's share of the
// cluster-wide connection caps (limit_slots.holders, src/limits).
//
// A lease lost with its connection while the process lives is taken again under a NEW id: whatever
// was tagged with the old one is orphaned and handed on by others (onLost tells this process to stop
// what it no longer owns; onRenewed to write its shares back).
import { randomInt } from 'node:crypto';
import postgres from 'postgres';
import type { Logger } from '../logger';
import { SERVER_KEEPALIVES } from './client';

/** First key of every lease lock (the second is the lease id); "vqlm" in ASCII. */
export const LEASE_LOCK_CLASS = 0x76716c6d;

const heldLocks = `select objid from pg_locks
  where locktype = 'advisory' and classid = ${LEASE_LOCK_CLASS} and objsubid = 2 and granted
    and database = (select oid from pg_database where datname = current_database())`;

/** SQL condition, true while the lease whose id is in `column` is held (its process alive). Reads only. */
export function leaseHeldSql(column: string): string {
  return `${column}::oid in (${heldLocks})`;
}

/** SQL for the ids of the leases held in this database now, as text (pg_locks is per server: filtered on both). */
export const LIVE_LEASE_IDS = `array(select objid::text from (${heldLocks}) held)`;

const RETRY_MS = [250, 500, 1000, 2000, 5000];

export class ProcessLease {
  private readonly sql: postgres.Sql;
  private closing = false;
  private retaking: Promise<void> | null = null;
  private readonly lostListeners: Array<(lostId: number) => void> = [];
  private readonly renewedListeners: Array<(previousId: number) => void> = [];
  /** The lease id (the last one held while a lost lease is being taken again). */
  id = 0;

  private constructor(
    url: string,
    private readonly log: Logger,
    applicationName: string,
  ) {
    this.sql = postgres(url, {
      max: 1,
      // Recycling the connection (postgres.js does after 30-60 minutes by default) would drop the lock.
      max_lifetime: 0,
      idle_timeout: 0,
      connect_timeout: 5,
      keep_alive: 10,
      onnotice: () => {},
      connection: { application_name: applicationName, ...SERVER_KEEPALIVES },
      onclose: () => this.lost(),
    });
  }

  static async take(url: string, log: Logger, applicationName: string): Promise<ProcessLease> {
    const lease = new ProcessLease(url, log, applicationName);
    try {
      await lease.lock();
    } catch (error) {
      await lease.close();
      throw error;
    }
    return lease;
  }

  /** The id of the lease held now, waiting for a lost one to be taken again. */
  async key(): Promise<number> {
    while (this.retaking) await this.retaking;
    return this.id;
  }

  /** Called at once when the lease is lost with its connection, with the id it had. */
  onLost(listener: (lostId: number) => void) {
    this.lostListeners.push(listener);
  }

  /** Called after a lost lease was taken again (under a new id), with the id it had. */
  onRenewed(listener: (previousId: number) => void) {
    this.renewedListeners.push(listener);
  }

  /** A fresh random id that no live session holds. */
  private async lock() {
    for (;;) {
      const id = randomInt(1, 2 ** 31 - 1);
      const [row] = await this.sql<{ ok: boolean }[]>`select pg_try_advisory_lock(${LEASE_LOCK_CLASS}::int, ${id}::int) as ok`;
      if (row!.ok) {
        this.id = id;
        return;
      }
    }
  }

  private lost() {
    if (this.closing || this.retaking) return;
    this.log.warn({ leaseId: this.id }, 'process lease lost with its database connection: what it held is handed on; taking a new one');
    for (const listener of this.lostListeners) listener(this.id);
    this.retaking = this.retake().finally(() => (this.retaking = null));
  }

  private async retake() {
    const previousId = this.id;
    for (let attempt = 0; !this.closing; attempt++) {
      try {
        await this.lock();
        this.log.info({ leaseId: this.id, previousId }, 'process lease taken again');
        for (const listener of this.renewedListeners) listener(previousId);
        return;
      } catch (error) {
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!;
        this.log.warn({ err: error, retryInMs: delay }, 'could not take the process lease again');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  async close() {
    this.closing = true;
    await this.sql.end({ timeout: 2 });
  }
}
