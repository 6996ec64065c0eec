// DateTime inputs, parsed. Free of imports so that domain code can use it without loading the schema builder.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Parses an ISO-8601 timestamp with a time zone; null when it is not one. */
export function parseIsoTimestamp(value: unknown): Date | null {
  if (typeof value !== 'string' || !ISO_8601.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * A malformed DateTime input. The scalar hands it to the resolver instead of failing the whole request,
 * so that the resolver can answer a typed InvalidInputError naming the field.
 */
export class InvalidDateTime {
  constructor(readonly received: unknown) {}
}
