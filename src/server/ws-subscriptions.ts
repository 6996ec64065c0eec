// The WebSocket fast path for subscriptions (graphql-transport-ws `subscribe` messages whose operation
// is a subscription). graphql-ws still owns the protocol (connection_init, ping/pong, queries and
// mutations over the socket); subscriptions are taken here because thousands of them sit idle per
// process, and graphql-ws's generic path keeps, per subscription, a suspended for-await, its closures,
// Yoga's per-operation envelope and result mappers (about 10 KB measured), and runs every event
// through all of it for every subscriber.
//
// Here a subscription is one small object: the follower its field returned (the live feed pushes rows
// into it synchronously), diverted to this consumer, which sends each item as a `next` message whose
// payload was executed and serialized once for every subscriber of the same operation
// (live/shared-execution.ts). Same messages, same semantics as graphql-ws: `next`, `error`, `complete`,
// a client's `complete`, 4409 for a duplicate id, 4403 for a bad key.
import type { IncomingMessage } from 'node:http';
import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, getOperationAST, GraphQLError } from 'graphql';
import type { Context, SubscribeMessage } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { AuthenticationError } from '../auth/authenticate';
import { newId } from '../db/ids';
import type { GraphQLContext } from '../graphql/context';
import { type Consumer, PullStream } from '../live/follower';
import { asGraphQLError, eventJson, operationKey } from '../live/shared-execution';
import type { Logger } from '../logger';
import { requestStore } from './request-context';
import { MAX_BUFFERED_BYTES, operationLimitError, WS_CLOSE_DUPLICATE_ID, WS_CLOSE_TRY_AGAIN_LATER } from './ws-policy';
import type { Yoga } from './yoga';

/** A stand-in for the upgrade request (operations only need its Host header, for download links). */
export interface SlimRequest {
  headers: { host?: string };
}

export interface FastSocket {
  readonly socket: WebSocket;
  readonly ctx: Context<Record<string, unknown>> | null;
  readonly request: SlimRequest;
  /** This socket's subscriptions: an array (sockets mostly hold one or two), null when none. */
  slots: Slot[] | null;
}

/** An id taken by a subscription that is still being set up. */
class Reservation {
  constructor(readonly id: string) {}
}

type Slot = FastSubscription | Reservation;

function findSlot(socket: FastSocket, id: string): Slot | undefined {
  const slots = socket.slots;
  if (slots) for (const slot of slots) if (slot.id === id) return slot;
  return undefined;
}

function removeSlot(socket: FastSocket, slot: Slot): boolean {
  const index = socket.slots?.indexOf(slot) ?? -1;
  if (index < 0) return false;
  socket.slots!.splice(index, 1);
  if (!socket.slots!.length) socket.slots = null;
  return true;
}

/**
 * A GraphQL error thrown while parsing or validating an operation (graphql-armor's limits throw) is a
 * refusal of that operation: an `error` message for its id, with the code Yoga gives it over HTTP. Any
 * other exception is not a refusal (null).
 */
export function refusal(error: unknown, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED'): GraphQLError | null {
  if (!(error instanceof GraphQLError) || (error.originalError && !(error.originalError instanceof GraphQLError))) return null;
  (error.extensions as Record<string, unknown>).code ??= code;
  return error;
}

/** How many subscriptions a socket holds on the fast path. */
export function slotCount(socket: FastSocket): number {
  return socket.slots?.length ?? 0;
}

interface SharedOperation {
  key: string;
  args: ExecutionArgs;
  refs: number;
}

export interface WsSubscriptionOptions {
  yoga: Yoga;
  log: Logger;
  maxOperationsPerSocket: number;
  /** Closes the socket for a key that no longer authenticates. */
  onUnauthenticated(socket: FastSocket): void;
}

export class WsSubscriptions {
  /** Execution args per viewer and operation, shared by every subscription of both. */
  private readonly operations = new Map<string, SharedOperation>();

  constructor(private readonly options: WsSubscriptionOptions) {}

  /** Takes a `subscribe` message. Returns false when it is not a subscription (graphql-ws runs it). */
  async subscribe(socket: FastSocket, message: SubscribeMessage): Promise<boolean> {
    const { id, payload } = message;
    const ctx = socket.ctx!;
    if (id in ctx.subscriptions || findSlot(socket, id)) {
      socket.socket.close(WS_CLOSE_DUPLICATE_ID, `Subscriber for ${id} already exists`);
      return true;
    }
    const info = { requestId: newId('req') };
    return requestStore.run(info, async () => {
      const enveloped = this.options.yoga.getEnveloped({ req: socket.request as IncomingMessage, connectionParams: ctx.connectionParams ?? {} } as never);
      let document: DocumentNode;
      try {
        document = enveloped.parse(payload.query);
      } catch (error) {
        this.sendError(socket, id, [refusal(error, 'GRAPHQL_PARSE_FAILED') ?? asGraphQLError(error)], info.requestId);
        return true;
      }
      if (getOperationAST(document, payload.operationName)?.operation !== 'subscription') return false;
      const refused = operationLimitError(Object.keys(ctx.subscriptions).length + slotCount(socket), this.options.maxOperationsPerSocket);
      if (refused) {
        this.sendError(socket, id, [refused], info.requestId);
        return true;
      }
      const reservation = new Reservation(id);
      // Most sockets hold one subscription: a one-element literal, where push() onto [] would reserve 17.
      if (socket.slots) socket.slots.push(reservation);
      else socket.slots = [reservation];
      const release = () => removeSlot(socket, reservation);
      let contextValue: GraphQLContext;
      try {
        contextValue = (await enveloped.contextFactory()) as GraphQLContext;
      } catch (error) {
        release();
        if (error instanceof AuthenticationError) {
          this.options.onUnauthenticated(socket);
          return true;
        }
        throw error;
      }
      let errors: readonly GraphQLError[];
      try {
        errors = enveloped.validate(enveloped.schema, document);
      } catch (error) {
        // graphql-armor's limits (aliases, depth, cost) throw from validation: that operation is refused.
        const refused = refusal(error, 'GRAPHQL_VALIDATION_FAILED');
        if (!refused) {
          release();
          throw error;
        }
        errors = [refused];
      }
      if (errors.length) {
        release();
        this.sendError(socket, id, errors, info.requestId);
        return true;
      }
      if (findSlot(socket, id) !== reservation) return true; // the client completed it meanwhile
      // Kept as long as the subscription runs: the viewer, not the user's whole row.
      if (contextValue.viewer.user) {
        const { user: _user, ...viewer } = contextValue.viewer;
        contextValue.viewer = viewer;
      }
      const operation = this.share(contextValue.viewer.keyId, {
        schema: enveloped.schema,
        document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue,
      });
      const subscription = new FastSubscription(this, socket, id, operation, info.requestId);
      socket.slots![socket.slots!.indexOf(reservation)] = subscription;
      let stream: AsyncIterable<unknown> | ExecutionResult;
      try {
        stream = (await createSourceEventStream(operation.args)) as AsyncIterable<unknown> | ExecutionResult;
      } catch (error) {
        subscription.error(error);
        return true;
      }
      if (!(Symbol.asyncIterator in stream)) {
        subscription.nextResult(stream as ExecutionResult);
        subscription.complete();
      } else if (stream instanceof PullStream) {
        subscription.attach(stream.divert(subscription));
      } else {
        subscription.attach(pump(stream, subscription));
      }
      return true;
    });
  }

  /** A client's `complete`. Returns false when the id is not one of ours (graphql-ws's, or unknown). */
  complete(socket: FastSocket, id: string): boolean {
    const slot = findSlot(socket, id);
    if (!slot) return false;
    removeSlot(socket, slot);
    if (slot instanceof FastSubscription) slot.stop();
    return true;
  }

  /** The socket closed: every subscription on it stops. */
  closed(socket: FastSocket) {
    const slots = socket.slots;
    socket.slots = null;
    if (slots) for (const slot of slots) if (slot instanceof FastSubscription) slot.stop();
  }

  private share(keyId: string, args: ExecutionArgs): SharedOperation {
    const key = operationKey(args);
    const scoped = `${keyId}\u0000${key}`;
    let operation = this.operations.get(scoped);
    if (!operation) this.operations.set(scoped, (operation = { key, args, refs: 0 }));
    operation.refs++;
    return operation;
  }

  unshare(keyId: string, operation: SharedOperation) {
    if (--operation.refs > 0) return;
    const scoped = `${keyId}\u0000${operation.key}`;
    if (this.operations.get(scoped) === operation) this.operations.delete(scoped);
  }

  sendError(socket: FastSocket, id: string, errors: readonly GraphQLError[], requestId: string) {
    send(socket.socket, JSON.stringify({ id, type: 'error', payload: this.mask(errors, requestId) }));
  }

  /** Unexpected errors never reach the client: a generic message and the request id, as over HTTP. */
  mask(errors: readonly GraphQLError[], requestId: string): unknown[] {
    return errors.map((error) => {
      const original = error.originalError;
      if (!original || original instanceof GraphQLError) return (original instanceof GraphQLError ? original : error).toJSON();
      this.options.log.error({ err: original, requestId }, 'unexpected error (masked from the client)');
      return {
        message: `Unexpected error. Quote request id ${requestId} when reporting it.`,
        path: error.path,
        extensions: { code: 'INTERNAL_ERROR', requestId },
      };
    });
  }

  /** What a `next` message carries for an execution result (graphql-ws's shape, errors masked). */
  prepare(result: ExecutionResult, requestId: string): unknown {
    if (!result.errors?.length) return result.extensions ? { data: result.data, extensions: result.extensions } : { data: result.data };
    return { ...result, errors: this.mask(result.errors, requestId) };
  }
}

function send(socket: WebSocket, data: string) {
  if (socket.readyState !== socket.OPEN) return;
  if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
    socket.close(WS_CLOSE_TRY_AGAIN_LATER, 'Client too slow: resubscribe (jobUpdated: with afterSequence) to catch up');
    return;
  }
  socket.send(data);
}

/** Drives a stream that is not a PullStream (a subscription field of some other kind). */
function pump(stream: AsyncIterable<unknown>, consumer: Consumer<unknown>): { stop(): void } {
  const iterator = stream[Symbol.asyncIterator]();
  let stopped = false;
  void (async () => {
    try {
      for (;;) {
        const step = await iterator.next();
        if (stopped) return;
        if (step.done) return consumer.complete();
        consumer.next(step.value);
      }
    } catch (error) {
      if (!stopped) consumer.error(error);
    }
  })();
  return {
    stop() {
      stopped = true;
      void iterator.return?.();
    },
  };
}

/** One subscription on one socket. */
export class FastSubscription implements Consumer<unknown> {
  /** A revoked key closes the whole socket (websocket.ts), which stops this. */
  readonly endsOnRevocation = true;
  private follower: { stop(): void } | null = null;
  private stopped = false;
  /** Non-null while an item's execution is asynchronous: what came after it waits here, in order. */
  private waiting: Array<() => void> | null = null;

  constructor(
    private readonly owner: WsSubscriptions,
    private readonly socket: FastSocket,
    readonly id: string,
    private readonly operation: SharedOperation,
    private readonly requestId: string,
  ) {}

  /** A `next` message around a payload already serialized (built per send: nothing kept per subscription). */
  private nextMessage(payloadJson: string): string {
    return '{"id":' + JSON.stringify(this.id) + ',"type":"next","payload":' + payloadJson + '}';
  }

  attach(follower: { stop(): void }) {
    if (this.stopped) follower.stop();
    else this.follower = follower;
  }

  next(item: unknown) {
    if (this.stopped) return;
    if (this.waiting) this.waiting.push(() => this.deliver(item));
    else this.deliver(item);
  }

  private deliver(item: unknown) {
    if (this.stopped) return;
    const json = eventJson(this.operation.args, this.operation.key, item, this);
    if (typeof json === 'string') return send(this.socket.socket, this.nextMessage(json));
    this.waiting = [];
    json.then(
      (text) => {
        if (!this.stopped) send(this.socket.socket, this.nextMessage(text));
        this.drain();
      },
      (error) => {
        this.drain();
        this.error(error);
      },
    );
  }

  private drain() {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    while (waiting.length) {
      waiting.shift()!();
      if (this.waiting) {
        // Another asynchronous item: the rest waits for it.
        (this.waiting as Array<() => void>).push(...waiting);
        return;
      }
    }
  }

  /** What a `next` message carries for a result (used by eventJson, once per row and operation). */
  prepare(result: ExecutionResult): unknown {
    return this.owner.prepare(result, this.requestId);
  }

  nextResult(result: ExecutionResult) {
    send(this.socket.socket, this.nextMessage(JSON.stringify(this.owner.prepare(result, this.requestId))));
  }

  complete() {
    if (this.waiting) return void this.waiting.push(() => this.complete());
    if (!this.end()) return;
    send(this.socket.socket, JSON.stringify({ id: this.id, type: 'complete' }));
  }

  error(error: unknown) {
    if (this.waiting) return void this.waiting.push(() => this.error(error));
    if (!this.end()) return;
    // A revoked key closes the socket (4403) through its own hook; nothing to send.
    if (error instanceof AuthenticationError) return;
    this.owner.sendError(this.socket, this.id, [asGraphQLError(error)], this.requestId);
  }

  /** The client completed it, or the socket closed. */
  stop() {
    this.end();
  }

  private end(): boolean {
    if (this.stopped) return false;
    this.stopped = true;
    this.waiting = null;
    this.follower?.stop();
    this.follower = null;
    removeSlot(this.socket, this);
    this.owner.unshare((this.operation.args.contextValue as GraphQLContext).viewer.keyId, this.operation);
    return true;
  }
}
