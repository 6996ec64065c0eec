// PostgreSQL errors the application expects and turns into typed results.

const UNIQUE_VIOLATION = '23505';

/**
 * True when `error` is a unique violation of `constraint` (an index name): raised by postgres.js
 * directly, or wrapped by drizzle as the `cause` of its own error.
 */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint_name?: string; cause?: unknown } | null;
  if (e?.code === UNIQUE_VIOLATION && e.constraint_name === constraint) return true;
  return e?.cause ? isUniqueViolation(e.cause, constraint) : false;
}
