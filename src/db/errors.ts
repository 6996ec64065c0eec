// PostgreSQL errors the application expects and turns into typed results.

const UNIQUE_VIOLATION = '23505';

/**
 * True when `error` is a unique violation of `constraint` (an index name): raised by postgres.js
 * directly, or wrapped by drizzle as the `cause` of its own error.
 */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return someCause(error, (e) => e.code === UNIQUE_VIOLATION && e.constraint_name === constraint);
}

/** Whether `error` or one of the errors it wraps (`cause`, as drizzle wraps postgres.js's) passes `test`. */
export function someCause(error: unknown, test: (e: { code?: unknown; constraint_name?: unknown }) => boolean): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (test(e as { code?: unknown; constraint_name?: unknown })) return true;
  }
  return false;
}

/** postgres.js's own codes for a connection that failed or went away, and Node's socket errors. */
const LOST_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs of a server that cannot serve now but may soon: class 08 (connection exception), shutting
 * down or starting up (57P01-57P03), out of connections or resources (class 53).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[123])/;

/**
 * True when `error` (or what it wraps) says PostgreSQL could not be reached or cannot serve right now:
 * a transient failure, worth retrying, rather than a bug of ours.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return someCause(
    error,
    ({ code }) => typeof code === 'string' && (LOST_CONNECTION_CODES.has(code) || (code.length === 5 && UNAVAILABLE_SQLSTATE.test(code))),
  );
}
