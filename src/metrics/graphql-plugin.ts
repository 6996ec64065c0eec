// Counts GraphQL operations and times queries and mutations, labelled by operation name (the root
// field when the operation has none), never by anything a client could vary freely.
import { getOperationAST, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { metrics } from './index';

/** The operation's name, or its first root field's; capped so that a client cannot grow the series without bound. */
function operationLabel(document: DocumentNode, operationName?: string | null): string {
  const operation = getOperationAST(document, operationName ?? undefined) as OperationDefinitionNode | null;
  const name =
    operation?.name?.value ?? (operation?.selectionSet.selections.find((s) => s.kind === 'Field') as { name?: { value: string } } | undefined)?.name?.value;
  return name && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'anonymous';
}

export function useMetrics(): Plugin {
  return {
    onExecute({ args }) {
      const operation = operationLabel(args.document, args.operationName);
      const started = performance.now();
      metrics.graphqlRequests.inc({ operation });
      return {
        onExecuteDone() {
          metrics.graphqlDuration.observe({ operation }, (performance.now() - started) / 1000);
        },
      };
    },
    onSubscribe({ args }) {
      metrics.graphqlRequests.inc({ operation: operationLabel(args.document, args.operationName) });
    },
  };
}
