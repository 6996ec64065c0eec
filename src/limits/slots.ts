// Counted slots per API key, shared by every API process: open WebSockets, SSE streams and uploads in
// progress. One row per kind and key holds the total the cap is checked against and each process's
// share, keyed by its lease (src/db/process-lease.ts):
//
//   - taking a slot is one statement: an upsert that adds one only while the total is under the cap
//     (the row lock serializes processes; nothing is read first). A process has at most one take
//     statement per key in flight; the takes asked for meanwhile go together in the next one (all
//     granted, or each tried alone: near the cap), so a burst of sockets of one key is a few
//     statements, not one commit per socket queueing on the key's row lock;
//   - giving it back is one statement (shared the same way), which never takes a process's share below
//     zero;
//   - the share of a process that died is taken out when its key reaches the cap (its lease lock is
//     gone from pg_locks), and by every process's housekeeping sweep: a SIGKILLed process frees its
//     slots without anyone waiting for a timeout;
//   - if this process's lease connection is lost (a restart of PostgreSQL, pg_terminate_backend),
//     other processes may take its share out meanwhile: once the lease is taken again the process
//     writes its share back from what it holds in memory (reconcile).
import type { Sql } from '../db/client';
import type { Logger } from '../logger';
import { LIVE_LEASE_IDS, type ProcessLease } from '../db/process-lease';

export type SlotKind = 'ws' | 'sse' | 'upload';

const sep = '\u0000';

interface Waiter {
  resolve(granted: boolean): void;
  reject(error: unknown): void;
}

export class SlotCounter {
  /** This process's slots per kind and key ("kind\0keyId"), as the database should have them. */
  private readonly held = new Map<string, number>();
  /** Takes not sent yet, per kind and key; and the keys whose take statement is in flight. */
  private readonly takes = new Map<string, Waiter[]>();
  private readonly taking = new Set<string>();
  /** Give-backs asked for in this turn of the event loop, per kind and key. */
  private gives = new Map<string, number>();
  private flushScheduled = false;
  /** Statements in flight, and how many have completed: a reconcile is only clean if neither moved. */
  private inFlight = 0;
  private settled = 0;
  private reconciling: Promise<void> | null = null;
  private reconcileAgain = false;
  /** Lease ids this process held before (a share under one of them is stale). */
  private readonly formerIds = new Set<number>();

  constructor(
    private readonly sql: Sql,
    private readonly lease: ProcessLease,
    private readonly caps: Record<SlotKind, number>,
    private readonly log: Logger,
  ) {
    lease.onRenewed((previousId) => {
      if (previousId !== lease.id) this.formerIds.add(previousId);
      this.reconcile();
    });
  }

  /** The cap of a kind (slots one key may hold across all API processes). */
  cap(kind: SlotKind): number {
    return this.caps[kind];
  }

  /** Takes a slot for the key; false when the key already holds its cap of this kind. */
  acquire(kind: SlotKind, keyId: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const id = kind + sep + keyId;
      const list = this.takes.get(id);
      if (list) list.push({ resolve, reject });
      else this.takes.set(id, [{ resolve, reject }]);
      if (!this.taking.has(id)) this.scheduleFlush(); // else sent when the key's statement returns
    });
  }

  /** Gives a slot back (after a successful acquire). Never fails: a failure is repaired by reconcile. */
  release(kind: SlotKind, keyId: string): void {
    const id = kind + sep + keyId;
    const n = (this.held.get(id) ?? 0) - 1;
    if (n > 0) this.held.set(id, n);
    else this.held.delete(id);
    this.gives.set(id, (this.gives.get(id) ?? 0) + 1);
    this.inFlight++; // already out of `held`, not yet out of the database
    this.scheduleFlush();
  }

  /** Resolves once no statement is queued or in flight (or after timeoutMs): before the lease is closed. */
  async idle(timeoutMs = 2000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.inFlight > 0 || this.flushScheduled || this.takes.size > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  }

  /** How many slots of a kind this process holds for a key. */
  heldHere(kind: SlotKind, keyId: string): number {
    return this.held.get(kind + sep + keyId) ?? 0;
  }

  private scheduleFlush() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const gives = this.gives;
      this.gives = new Map();
      for (const [id, k] of gives) void this.give(id, k);
      // One take statement per key in flight: what is asked meanwhile goes in the next one, together.
      for (const [id, waiters] of this.takes) {
        if (this.taking.has(id)) continue;
        this.takes.delete(id);
        this.taking.add(id);
        void this.take(id, waiters).finally(() => {
          this.taking.delete(id);
          if (this.takes.has(id)) this.scheduleFlush();
        });
      }
    });
  }

  private async take(id: string, waiters: Waiter[]) {
    const [kind, keyId] = id.split(sep) as [SlotKind, string];
    this.inFlight++;
    try {
      // All at once while the key is well under its cap; near it, one by one (each may sweep).
      if (waiters.length > 1 && (await this.tryTake(kind, keyId, waiters.length))) {
        this.held.set(id, (this.held.get(id) ?? 0) + waiters.length);
        for (const w of waiters) w.resolve(true);
        return;
      }
      let full = false;
      for (const w of waiters) {
        let granted: boolean = !full && (await this.tryTake(kind, keyId, 1));
        // At the cap: the share of processes that died is taken out (by us, or by a concurrent
        // sweep we waited for), then one more try. If that fails too, the rest are refused at once.
        if (!granted && !full) {
          await this.sweep(kind, keyId);
          granted = await this.tryTake(kind, keyId, 1);
          full = !granted;
        }
        if (granted) this.held.set(id, (this.held.get(id) ?? 0) + 1);
        w.resolve(granted);
      }
    } catch (error) {
      this.reconcileSoon(); // a statement may have been applied without us hearing back
      for (const w of waiters) w.reject(error); // (a waiter already resolved ignores it)
    } finally {
      this.inFlight--;
      this.settled++;
    }
  }

  private async give(id: string, k: number) {
    const [kind, keyId] = id.split(sep) as [SlotKind, string];
    const holder = String(this.lease.id);
    try {
      await this.sql`
        update limit_slots s
        set n = s.n - least(${k}::int, (s.holders->>${holder})::int),
            holders = case when (s.holders->>${holder})::int <= ${k}::int then s.holders - ${holder}::text
                      else jsonb_set(s.holders, array[${holder}::text], to_jsonb((s.holders->>${holder})::int - ${k}::int)) end
        where s.kind = ${kind} and s.key_id = ${keyId} and (s.holders->>${holder})::int > 0`;
    } catch (error) {
      this.log.warn({ err: error, kind, keyId }, 'giving limit slots back failed; repairing');
      this.reconcileSoon();
    } finally {
      this.inFlight -= k;
      this.settled += k;
    }
  }

  /** Adds k slots for the key if the total stays within the cap (all or none). */
  private async tryTake(kind: SlotKind, keyId: string, k: number): Promise<boolean> {
    const holder = String(this.lease.id);
    const cap = this.caps[kind];
    if (k > cap) return false;
    const rows = await this.sql`
      insert into limit_slots as s (kind, key_id, n, holders)
      values (${kind}, ${keyId}, ${k}::int, jsonb_build_object(${holder}::text, ${k}::int))
      on conflict (kind, key_id) do update
      set n = s.n + ${k}::int,
          holders = jsonb_set(s.holders, array[${holder}::text], to_jsonb(coalesce((s.holders->>${holder})::int, 0) + ${k}::int))
      where s.n + ${k}::int <= ${cap}::int
      returning 1`;
    return rows.length > 0;
  }

  /**
   * Takes the shares of dead processes (no lease lock in pg_locks) out of one row, or of every row.
   * Returns whether anything was taken out. The new total is summed from the row as it is when the
   * update locks it, so a concurrent take or release by a live process is never lost.
   */
  async sweep(kind?: SlotKind, keyId?: string): Promise<boolean> {
    const only = kind && keyId ? this.sql`and s.kind = ${kind} and s.key_id = ${keyId}` : this.sql``;
    const rows = await this.sql`
      update limit_slots s
      set holders = coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each(s.holders) e where e.key = any(live.ids)), '{}'::jsonb),
          n = coalesce((select sum(e.value::int) from jsonb_each_text(s.holders) e where e.key = any(live.ids)), 0)
      from (select ${this.sql.unsafe(LIVE_LEASE_IDS)} as ids) live
      where exists (select 1 from jsonb_object_keys(s.holders) k where k <> all(live.ids)) ${only}
      returning s.kind, s.key_id, s.n`;
    if (rows.length) this.log.info({ rows: rows.length, kind, keyId }, 'freed limit slots of API processes that are gone');
    return rows.length > 0;
  }

  private reconcileSoon() {
    setTimeout(() => this.reconcile(), 1000).unref();
  }

  /**
   * Writes this process's share back as it holds it in memory (after its lease connection was lost, or
   * a statement failed without an answer). Repeated until it ran while no other statement of this
   * process was in flight, so that what it wrote is exact.
   */
  reconcile() {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = (async () => {
      for (let round = 0; round < 20; round++) {
        this.reconcileAgain = false;
        while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 10));
        const before = this.settled;
        const entries = [...this.held];
        const holder = String(this.lease.id);
        const stale = [holder, ...[...this.formerIds].map(String)];
        try {
          await this.sql.begin(async (tx) => {
            // Rows locked in key order, so that two processes repairing at once cannot deadlock.
            await tx`
              update limit_slots s
              set n = s.n - coalesce((select sum(e.value::int) from jsonb_each_text(s.holders) e where e.key = any(${stale}::text[])), 0),
                  holders = s.holders - ${stale}::text[]
              where (s.kind, s.key_id) in (
                select kind, key_id from limit_slots where holders ?| ${stale}::text[] order by kind, key_id for update)`;
            if (entries.length) {
              await tx`
                insert into limit_slots as s (kind, key_id, n, holders)
                select w.kind, w.key_id, w.n, jsonb_build_object(${holder}::text, w.n)
                from unnest(${entries.map(([k]) => k.split(sep)[0]!)}::text[], ${entries.map(([k]) => k.split(sep)[1]!)}::text[], ${entries.map(([, n]) => n)}::int[]) as w(kind, key_id, n)
                order by w.kind, w.key_id
                on conflict (kind, key_id) do update set n = s.n + excluded.n, holders = s.holders || excluded.holders`;
            }
          });
        } catch (error) {
          this.log.warn({ err: error }, 'writing back this process’s limit slots failed; retrying');
          await new Promise((r) => setTimeout(r, 1000).unref());
          continue;
        }
        this.formerIds.clear();
        if (this.settled === before && this.inFlight === 0 && !this.reconcileAgain) return;
      }
      this.reconcileSoon();
    })().finally(() => (this.reconciling = null));
  }
}
