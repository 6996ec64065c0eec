// Retry schedule for webhook deliveries. Pure functions: the caller stores attempt numbers and
// schedules the retry job, which keeps this testable without clocks.
//
// Schedule: the first delivery is attempt 0; retry n (1..WEBHOOK_MAX_RETRIES) waits
//   baseSeconds · 2^(n-1)          -> with the default base of 1 s: 1 s, 2 s, 4 s
// or longer when the receiver answered 429/503 with a Retry-After that asks for more (it knows best
// when it can take traffic again). A shorter one is not taken: "Retry-After: 0" or "1" would use up
// every retry within seconds. Both are capped at maxSeconds (1 h by default) so a hostile or buggy
// Retry-After cannot park a delivery for days.

export const WEBHOOK_MAX_RETRIES = 3;

export interface BackoffOptions {
  baseSeconds?: number;
  maxSeconds?: number;
}

export function webhookRetryDelaySeconds(
  attempt: number,
  retryAfterSeconds: number | null,
  { baseSeconds = 1, maxSeconds = 3600 }: BackoffOptions = {},
): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`retry attempt must be a whole number >= 1, got ${attempt}`);
  }
  // Math.min also absorbs Infinity from huge exponents.
  const computed = Math.min(baseSeconds * 2 ** (attempt - 1), maxSeconds);
  if (retryAfterSeconds !== null && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > computed) {
    return Math.min(retryAfterSeconds, maxSeconds);
  }
  return computed;
}

/**
 * Parses a Retry-After header: delta-seconds ("7") or an HTTP date ("Wed, 21 Oct 2015 07:28:00
 * GMT"), returning whole seconds from `now` (never negative), or null when absent or unparsable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: Date = new Date()): number | null {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw);
  // Only accept things that look like dates; Date.parse is lenient with junk like "12 x".
  if (!/[a-z]/i.test(raw)) return null;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
