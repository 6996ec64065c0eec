import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder';

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

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp with a time zone, e.g. 2026-04-20T10:00:00Z.',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value as string).toISOString()),
  parseValue: (value) => parseIsoTimestamp(value) ?? new InvalidDateTime(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('Expected an ISO-8601 timestamp string.');
    return parseIsoTimestamp(ast.value) ?? new InvalidDateTime(ast.value);
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
});
