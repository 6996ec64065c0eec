// Subscription streams, push-first.
//
// A Follower is what a subscription field starts: it registers with a live feed (live/hub.ts), which PUSHES rows
// into it synchronously, and hands its items to a Consumer. Two consumers exist:
//   - the WebSocket fast path (server/ws-subscriptions.ts) sends each item straight to the socket: an
//     idle subscriber is one small object in the feed, with no promise, frame or queue of its own;
//   - PullStream, the async iterator GraphQL expects from a subscription field (used over SSE, and by
//     any other executor): a bounded queue in front of the follower.
// Subscription fields return a PullStream; the fast path diverts it to itself before it starts.
import { metrics } from '../metrics/index';
import { GraphQLError } from 'graphql';
import { AuthenticationError } from '../auth/authenticate';
import type { GraphQLContext } from '../graphql/context';
import type { Revocable, Sink } from './types';

export interface Consumer<T> {
  next(item: T): void;
  complete(): void;
  error(error: unknown): void;
  /** True when the consumer ends itself if the key is revoked (a WebSocket closes): the follower need not watch for it. */
  readonly endsOnRevocation?: boolean;
}

export abstract class Follower<Row, Out> implements Sink<Row>, Revocable {
  protected ended = false;

  constructor(
    protected readonly ctx: GraphQLContext,
    private consumer: Consumer<Out>,
  ) {
    metrics.subscriptions.inc(); // every live subscription is one follower, over WebSocket or SSE
  }

  /** Starts following (registers with its feed, reads what it must). */
  abstract start(): void;
  abstract push(row: Row): void;
  /** Undoes what start() registered (called once, when the follower ends). */
  protected abstract detach(): void;

  protected emit(item: Out) {
    if (!this.ended) this.consumer.next(item);
  }

  protected finish() {
    if (this.release()) this.consumer.complete();
  }

  protected fail(error: unknown) {
    if (this.release()) this.consumer.error(error);
  }

  revoked() {
    this.fail(new AuthenticationError('INVALID_API_KEY'));
  }

  /** Whether this follower registers for its key's revocation itself (SSE and other pull consumers). */
  protected get watchesRevocation(): boolean {
    return !this.consumer.endsOnRevocation;
  }

  /** The subscriber went away: stop without telling the consumer. */
  stop() {
    this.release();
  }

  private release(): boolean {
    if (this.ended) return false;
    this.ended = true;
    metrics.subscriptions.dec();
    this.detach();
    return true;
  }
}

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;

/** Items a pulling subscriber may have waiting; beyond, the stream ends asking the client to resubscribe. */
const PULL_QUEUE_LIMIT = 1_000;

/** Ends a pull stream whose reader fell too far behind (a GraphQLError: shown as is, not masked). */
export class SubscriberTooSlowError extends GraphQLError {
  constructor() {
    super('The subscriber fell too far behind; resubscribe (with afterSequence, for jobUpdated) to catch up.', {
      extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
    });
  }
}

/**
 * The async iterator a subscription field returns. It creates its follower lazily: either on the
 * first next() (pull), or when the WebSocket fast path diverts it to a consumer of its own (push).
 */
export class PullStream<Out> implements AsyncIterableIterator<Out> {
  private follower: Follower<unknown, Out> | null = null;
  private queue: Out[] = [];
  private waiter: { resolve: (r: IteratorResult<Out>) => void; reject: (e: unknown) => void } | null = null;
  private finished = false;
  private failure: unknown = null;

  constructor(private readonly create: (consumer: Consumer<Out>) => Follower<unknown, Out>) {}

  /** Push mode: the follower hands its items to `consumer`; this iterator is not used any more. */
  divert(consumer: Consumer<Out>): Follower<unknown, Out> {
    if (this.follower) throw new Error('stream already started');
    this.follower = this.create(consumer);
    this.follower.start();
    return this.follower;
  }

  next(): Promise<IteratorResult<Out>> {
    if (!this.follower) {
      this.follower = this.create({
        next: (item) => this.enqueue(item),
        complete: () => this.end(null),
        error: (error) => this.end(error ?? new Error('stream failed')),
      });
      this.follower.start();
    }
    if (this.queue.length) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.failure) return this.rejectFailure();
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private enqueue(item: Out) {
    if (this.finished) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      waiter.resolve({ value: item, done: false });
    } else if (this.queue.length >= PULL_QUEUE_LIMIT) {
      this.follower?.stop();
      this.end(new SubscriberTooSlowError());
    } else this.queue.push(item);
  }

  private end(error: unknown) {
    if (this.finished) return;
    this.finished = true;
    this.failure = error;
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = null;
    if (this.queue.length) waiter.resolve({ value: this.queue.shift()!, done: false });
    else if (this.failure) {
      const failure = this.failure;
      this.failure = null;
      waiter.reject(failure);
    } else waiter.resolve(DONE);
  }

  private rejectFailure(): Promise<never> {
    const failure = this.failure;
    this.failure = null;
    return Promise.reject(failure);
  }

  return(): Promise<IteratorResult<Out>> {
    this.follower?.stop();
    this.queue = [];
    this.end(null);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<Out>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}
