// Failed authentications (a wrong API key) per client address, counted in PostgreSQL so that every
// API process sees the same count. Past AUTH_MAX_FAILURES in AUTH_FAILURE_WINDOW_SECONDS, the
// address's next failures are answered 429 RATE_LIMITED with Retry-After (the end of the window)
// instead of 401.
//
// Only failures are counted and only failures are ever refused: a valid key is looked up exactly as
// before and served, from any address, blocked or not — it pays no query and no wait for this. Once an
// address is known blocked, this process answers its failures from memory until the window ends,
// without writing to the database again.
import type { Sql } from '../db/client';

/** Blocked addresses this process remembers at most (beyond it, it asks the database again). */
const MAX_REMEMBERED = 100_000;

export class AuthFailureLimiter {
  /** Address → when its block ends (ms since epoch, by this process's clock). */
  private readonly blocked = new Map<string, number>();

  constructor(
    private readonly sql: Sql,
    private readonly maxFailures: number,
    private readonly windowSeconds: number,
  ) {}

  /**
   * Records a failed authentication from `address`. Returns how many seconds the address must wait when
   * it is past its limit (answer 429), or null (answer 401 as usual).
   */
  async failed(address: string): Promise<number | null> {
    const until = this.blocked.get(address);
    if (until !== undefined) {
      const left = until - Date.now();
      if (left > 0) return Math.ceil(left / 1000);
      this.blocked.delete(address);
    }
    const window = this.windowSeconds;
    const [row] = await this.sql<{ failures: number; retryAfter: number }[]>`
      insert into auth_failures as f (address, window_started_at, failures)
      values (${address}, now(), 1)
      on conflict (address) do update
      set failures = case when f.window_started_at > now() - make_interval(secs => ${window}) then f.failures + 1 else 1 end,
          window_started_at = case when f.window_started_at > now() - make_interval(secs => ${window}) then f.window_started_at else now() end
      returning failures, greatest(1, ceil(extract(epoch from f.window_started_at + make_interval(secs => ${window}) - now())))::int as "retryAfter"`;
    if (row!.failures <= this.maxFailures) return null;
    if (this.blocked.size >= MAX_REMEMBERED) this.forgetExpired();
    if (this.blocked.size < MAX_REMEMBERED) this.blocked.set(address, Date.now() + row!.retryAfter * 1000);
    return row!.retryAfter;
  }

  /** Drops windows that ended: in memory, and rows no process will look at again. */
  async purge() {
    this.forgetExpired();
    await this.sql`delete from auth_failures where window_started_at < now() - make_interval(secs => ${this.windowSeconds}) - interval '1 minute'`;
  }

  private forgetExpired() {
    const now = Date.now();
    for (const [address, until] of this.blocked) if (until <= now) this.blocked.delete(address);
  }
}
