/**
 * Any reason the embedded PostgreSQL cannot start, as one line that says what went wrong and what to do:
 * `vidq serve` and the test setup print the message alone, without a stack trace.
 */
export class EmbeddedPostgresError extends Error {
  constructor(problem: string, nextStep: string, options?: { cause?: unknown }) {
    super(`Embedded PostgreSQL could not start: ${problem}. Next step: ${nextStep}.`, options);
    this.name = 'EmbeddedPostgresError';
  }
}

export const USE_YOUR_OWN = 'or set DATABASE_URL to use your own PostgreSQL';
