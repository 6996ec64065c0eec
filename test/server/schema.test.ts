import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../src/server/schema';

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing the API)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printedSchema());
  });

  it('names every error type of the contract and the Error interface they implement', () => {
    const sdl = printedSchema();
    for (const type of [
      'InvalidInputError',
      'InsufficientCreditsError',
      'ForbiddenError',
      'VideoNotFoundError',
      'JobNotFoundError',
      'JobAlreadyProcessingError',
      'JobNotCompleteError',
      'JobTimeoutError',
      'JobFailedError',
      'FileTooLargeError',
      'UnsupportedFormatError',
      'VideoCorruptError',
      'RateLimitedError',
    ]) {
      expect(sdl).toMatch(new RegExp(`type ${type} implements Error \\{`));
    }
  });
});
