// The one Pothos builder. Domains add their types and fields to it; server/schema.ts assembles them.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import type { FileUpload } from 'graphql-upload-ts';
import type { GraphQLContext } from './context';
import type { InvalidDateTime } from './date-time';

interface VidqSchemaTypes {
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date | InvalidDateTime; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    Upload: { Input: Promise<FileUpload>; Output: never };
  };
}

/** The builder's schema types, for helpers that take a ref of this schema. */
export type Types = PothosSchemaTypes.ExtendDefaultTypes<VidqSchemaTypes>;

export const builder = new SchemaBuilder<VidqSchemaTypes>({
  plugins: [ErrorsPlugin],
  defaultFieldNullability: false,
  errors: {
    // Only vidq's own error classes become typed results; anything else is masked by Yoga.
    defaultTypes: [],
  },
});

builder.queryType({});
builder.mutationType({});
// The Subscription root type is declared by the jobs domain, which owns the first subscriptions.
