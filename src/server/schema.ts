// Assembles the schema from every domain's types and fields. Importing a domain's graphql module
// registers its fields on the shared builder.
import { assertValidSchema, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from '../graphql/builder';
import { guardArgumentsAgainstNul } from '../graphql/nul-guard';
import '../graphql/scalars';
import '../graphql/errors';
import '../auth/graphql/types';
import '../auth/graphql/queries';
import '../auth/graphql/mutations';
import '../uploads/graphql/types';
import '../uploads/graphql/queries';
import '../uploads/graphql/mutations';
import '../health/graphql/types';
import '../health/graphql/queries';
import '../pipeline/graphql/types';
import '../pipeline/graphql/queries';
import '../jobs/graphql/types';
import '../jobs/graphql/queries';
import '../jobs/graphql/mutations';
import '../jobs/graphql/subscriptions';
import '../alerts/graphql/types';
import '../alerts/graphql/queries';
import '../alerts/graphql/subscriptions';
import '../webhooks/graphql/types';
import '../webhooks/graphql/queries';
import '../webhooks/graphql/mutations';

let schema: GraphQLSchema | undefined;

export function buildSchema(): GraphQLSchema {
  if (!schema) {
    schema = builder.toSchema();
    assertValidSchema(schema); // fail at start, not on the first request
    guardArgumentsAgainstNul(schema);
  }
  return schema;
}

/** The printed schema, as committed in schema.graphql. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildSchema()))}\n`;
}
