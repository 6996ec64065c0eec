// One execution per event, not per subscriber.
//
// graphql-js runs a subscription's selection set once for every event and every subscriber. With
// 5,000 subscribers of one job that is 5,000 identical executions per event (measured: 75–250 µs of
// CPU and garbage each, i.e. 0.4–1.2 s per event). The live feeds hand every local subscriber the
// SAME row object and marks it shared; an operation (document, operation name, variables) is executed
// once per shared row, and the WebSocket fast path also serializes it once.
//
// The invariant that makes it correct: the fields of shared rows (JobEvent, Alert) are the same for
// everyone allowed to receive them; who may receive a row is decided when the subscription starts and
// by the feeds' routing, never by a field resolver. Anything else a stream yields (e.g. the
// JobNotFoundError item) is executed per subscriber as usual.
import { createSourceEventStream, type DocumentNode, execute, type ExecutionArgs, type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;
const shared = new WeakSet<object>();

interface Memo {
  result: ExecutionResult | Promise<ExecutionResult>;
  json?: string;
}
/** Per shared row, per operation key; dropped with the row once every subscriber is done with it. */
const memos = new WeakMap<object, Map<string, Memo>>();
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;

/** Marks an object that is handed, as is, to every local subscriber (see the invariant above). */
export function markShared<T extends object>(row: T): T {
  shared.add(row);
  return row;
}

/** What identifies an operation's result for a given row: document, operation name, variables. */
export function operationKey(args: Pick<ExecutionArgs, 'document' | 'operationName' | 'variableValues'>): string {
  // Yoga's parser cache gives identical query texts the same DocumentNode.
  let id = documentIds.get(args.document);
  if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
  return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

function memoOf(payload: unknown, args: ExecutionArgs, key: string): Memo | null {
  if (typeof payload !== 'object' || payload === null || !shared.has(payload)) return null;
  let byOperation = memos.get(payload);
  if (!byOperation) memos.set(payload, (byOperation = new Map()));
  let memo = byOperation.get(key);
  if (!memo) byOperation.set(key, (memo = { result: execute({ ...args, rootValue: payload }) }));
  return memo;
}

/** The operation's result for one event payload: executed once per shared row and operation. */
export function executeEvent(args: ExecutionArgs, key: string, payload: unknown): ExecutionResult | Promise<ExecutionResult> {
  return memoOf(payload, args, key)?.result ?? execute({ ...args, rootValue: payload });
}

/**
 * The result as JSON, for a `next` message: serialized once per shared row and operation. `prepare`
 * (a method, so that callers need no closure per event) turns the result into what is sent (it masks unexpected errors). Synchronous when execution is (the
 * fields of rows are), so that the fast path keeps no promise per subscriber.
 */
export function eventJson(
  args: ExecutionArgs,
  key: string,
  payload: unknown,
  preparer: { prepare(result: ExecutionResult): unknown },
): string | Promise<string> {
  const memo = memoOf(payload, args, key);
  if (!memo) {
    const result = execute({ ...args, rootValue: payload });
    return result instanceof Promise ? result.then((r) => JSON.stringify(preparer.prepare(r))) : JSON.stringify(preparer.prepare(result));
  }
  if (memo.json !== undefined) return memo.json;
  const result = memo.result;
  if (result instanceof Promise) return result.then((r) => (memo.json ??= JSON.stringify(preparer.prepare(r))));
  return (memo.json = JSON.stringify(preparer.prepare(result)));
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

export function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const original = error instanceof Error ? error : new Error(String(error));
  return new GraphQLError(original.message, { originalError: original });
}

/** Maps a source stream to execution results, sharing the execution of shared rows. A class, not closures: thousands idle at once. */
class SharedExecutionStream implements AsyncIterableIterator<ExecutionResult> {
  constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly args: ExecutionArgs,
    private readonly key: string,
  ) {}

  // Promise chaining rather than async/await: no suspended frame per idle subscriber.
  next(): Promise<IteratorResult<ExecutionResult>> {
    return this.source.next().then(
      (step) => (step.done ? DONE : Promise.resolve(executeEvent(this.args, this.key, step.value)).then((value) => ({ value, done: false }))),
      (error) => {
        throw asGraphQLError(error);
      },
    );
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.source.return?.();
    throw error;
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

export async function sharedSubscribe(args: ExecutionArgs): Promise<ExecutionResult | AsyncIterableIterator<ExecutionResult>> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable(stream)) return stream as ExecutionResult;
  return new SharedExecutionStream(stream[Symbol.asyncIterator](), args, operationKey(args));
}

/** The Yoga/envelop plugin: every subscription through Yoga (SSE, and graphql-ws's own path) goes through sharedSubscribe. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as never);
    },
  };
}
