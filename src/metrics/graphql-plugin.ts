// Counts GraphQL operations and times queries and mutations, labelled by a bounded set of names, never
// by anything a client could vary freely: every distinct label value is a series Prometheus keeps.
import { getOperationAST, Kind, type DocumentNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { metrics } from './index';

/**
 * The operation names our own clients send, which are always the label: those of the SDK
 * (clients/sdk/src/operations.ts) and of the REST mapping (src/rest/operations.ts);
 * test/metrics/metrics.test.ts keeps this list in step with both. The dashboard's operations are
 * anonymous, so they are labelled by their root field.
 */
export const KNOWN_OPERATION_NAMES: ReadonlySet<string> = new Set([
  'CreateVideoFromUpload',
  'SubmitJob',
  'Job',
  'Video',
  'CancelJob',
  'RetryJob',
  'JobOutput',
  'JobUpdated',
  'RestAuthenticate',
  'RestJob',
  'RestJobResult',
  'RestSubmitJob',
  'RestVideo',
  'RestUploadVideo',
  'RestDeleteVideo',
  'RestPricing',
]);

/** Everything else: a name of a client's own choosing, or a document without a field of the schema. */
export const OTHER_OPERATION = 'other';

/** The name (never the alias) of the first root field selected, looking into fragments at the root. */
function firstRootField(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): string | undefined {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) return selection.name.value;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const name = firstRootField(document, selection.selectionSet, seen);
      if (name) return name;
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      const name = fragment?.kind === Kind.FRAGMENT_DEFINITION ? firstRootField(document, fragment.selectionSet, seen) : undefined;
      if (name) return name;
    }
  }
  return undefined;
}

/**
 * How many distinct operation names of clients' own one process keeps as labels (the contract: the
 * operation's name). Past them, a name not seen yet is labelled by its root field: a client that sends
 * a million different names adds at most this many series.
 */
export const MAX_CLIENT_OPERATION_NAMES = 100;
const clientOperationNames = new Set<string>();

/**
 * The label: the operation's name (always for KNOWN_OPERATION_NAMES; for others while fewer than
 * MAX_CLIENT_OPERATION_NAMES were seen), otherwise the root field it selects first when the schema has
 * that field, otherwise `other`.
 */
export function operationLabel(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null, names = clientOperationNames): string {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return OTHER_OPERATION;
  const name = operation.name?.value;
  if (name && (KNOWN_OPERATION_NAMES.has(name) || names.has(name))) return name;
  if (name && names.size < MAX_CLIENT_OPERATION_NAMES && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    names.add(name);
    return name;
  }
  const field = firstRootField(document, operation.selectionSet);
  if (!field) return OTHER_OPERATION;
  if (field === '__typename' || field === '__schema' || field === '__type') return field;
  return schema.getRootType(operation.operation)?.getFields()[field] ? field : OTHER_OPERATION;
}

export function useMetrics(): Plugin {
  return {
    onExecute({ args }) {
      const operation = operationLabel(args.schema, args.document, args.operationName);
      const started = performance.now();
      metrics.graphqlRequests.inc({ operation });
      return {
        onExecuteDone() {
          metrics.graphqlDuration.observe({ operation }, (performance.now() - started) / 1000);
        },
      };
    },
    onSubscribe({ args }) {
      metrics.graphqlRequests.inc({ operation: operationLabel(args.schema, args.document, args.operationName) });
    },
  };
}
