// This process's lease: a session-level advisory lock, held on a PostgreSQL connection of its own for
// as long as the process lives. PostgreSQL drops it the moment that session ends — the process exits,
// is SIGKILLed, or its machine stops answering TCP keepalives — so any process can tell whether the
// holder of a slot (slots.ts) is still alive by looking for its lock in pg_locks, without a heartbeat.
import { randomInt } from 'node:crypto';
import postgres from 'postgres';
import { SERVER_KEEPALIVES } from '../db/client';
import type { Logger } from '../logger';

/** First key of every lease lock (the second is the lease id); "vqlm" in ASCII. */
export const LEASE_LOCK_CLASS = 0x76716c6d;

/**
 * SQL for the ids of the leases currently held in this database, as text (the keys of
 * limit_slots.holders). Advisory locks are per database, pg_locks is per server: filtered on both.
 */
export const LIVE_LEASE_IDS = `array(
  select objid::text from pg_locks
  where locktype = 'advisory' and classid = ${LEASE_LOCK_CLASS} and objsubid = 2 and granted
    and database = (select oid from pg_database where datname = current_database()))`;

const RETRY_MS = [250, 500, 1000, 2000, 5000];

export class ProcessLease {
  private readonly sql: postgres.Sql;
  private closing = false;
  private retaking: Promise<void> | null = null;
  private readonly renewedListeners: Array<(previousId: number) => void> = [];
  /** The lease id: the holder key of this process's slots. */
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
      // A process cut off from the database (a half-open connection) loses its lease too, within
      // about 20 s, like workers' liveness locks (src/queue/liveness.ts, the same mechanism).
      keep_alive: 10,
      onnotice: () => {},
      connection: { application_name: applicationName, ...SERVER_KEEPALIVES },
      onclose: () => this.lost(),
    });
  }

  static async take(url: string, log: Logger, applicationName = 'vidq-lease'): Promise<ProcessLease> {
    const lease = new ProcessLease(url, log, applicationName);
    try {
      await lease.lock();
    } catch (error) {
      await lease.close();
      throw error;
    }
    return lease;
  }

  /** Called after the lease was lost (its connection ended) and taken again; with the id it had. */
  onRenewed(listener: (previousId: number) => void) {
    this.renewedListeners.push(listener);
  }

  /** Takes the lock: the same id again when it is free (after a lost connection), else a fresh one. */
  private async lock() {
    let id = this.id || randomInt(1, 2 ** 31 - 1);
    for (;;) {
      const [row] = await this.sql<{ ok: boolean }[]>`select pg_try_advisory_lock(${LEASE_LOCK_CLASS}::int, ${id}::int) as ok`;
      if (row!.ok) break;
      // Another live session holds it (ids are random: one of ours that has not ended yet).
      id = randomInt(1, 2 ** 31 - 1);
    }
    this.id = id;
  }

  private lost() {
    if (this.closing || this.retaking) return;
    this.log.warn({ leaseId: this.id }, 'limits lease connection lost; taking the lease again');
    this.retaking = this.retake().finally(() => (this.retaking = null));
  }

  private async retake() {
    const previousId = this.id;
    for (let attempt = 0; !this.closing; attempt++) {
      try {
        await this.lock();
        this.log.info({ leaseId: this.id, previousId }, 'limits lease taken again');
        for (const listener of this.renewedListeners) listener(previousId);
        return;
      } catch (error) {
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!;
        this.log.warn({ err: error, retryInMs: delay }, 'could not take the limits lease again');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  async close() {
    this.closing = true;
    await this.sql.end({ timeout: 2 });
  }
}
