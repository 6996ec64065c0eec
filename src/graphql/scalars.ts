import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder';
import { InvalidDateTime, parseIsoTimestamp } from './date-time';

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
