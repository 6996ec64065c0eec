// GraphQL Code Generator for vidq clients: `npm run codegen` (run by `npm run schema:print` too).
// - clients/sdk/src/generated/: typed documents for the SDK's own operations (client preset,
//   documents as strings, so the SDK needs no GraphQL parser at run time);
// - the scalar mappings every vidq client wants: DateTime is an ISO-8601 string, JSON an object, Upload
//   a File or Blob. Copy this file into your app and point `documents` at your own operations.
import type { CodegenConfig } from '@graphql-codegen/cli';

export const scalars = {
  DateTime: { input: 'string | Date', output: 'string' },
  JSON: { input: 'Record<string, unknown>', output: 'Record<string, unknown>' },
  Upload: { input: 'File | Blob', output: 'never' },
};

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['clients/sdk/src/**/*.ts', '!clients/sdk/src/generated/**'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false, // './graphql.js': ES module imports that Node resolves
  generates: {
    'clients/sdk/src/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        scalars,
      },
    },
  },
};

export default config;
