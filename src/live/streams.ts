// Shared by the subscription fields of every domain: the process's live feeds from the context,
// expected errors as stream items, and the two simplest followers.
import { errorTypeMap, wrapOrThrow } from '@pothos/plugin-errors';
import type { GraphQLContext } from '../graphql/context';
import { type Consumer, Follower, PullStream } from './follower';

/**
 * An expected error as a stream item: wrapped the way the errors plugin wraps a resolver's, so that
 * GraphQL treats it as a union member rather than as a failure.
 */
export function asResult<E extends Error>(error: E, type: abstract new (...args: never[]) => E): E {
  return wrapOrThrow(error, [type as never]) as E;
}

/** resolveType of a "value | error" stream union. */
export function resultTypeName(value: unknown, valueType: string): string {
  const errorType = typeof value === 'object' && value !== null ? (errorTypeMap.get(value) as { name?: string } | undefined) : undefined;
  return errorType?.name ?? valueType;
}

export function liveFeeds(ctx: GraphQLContext) {
  if (!ctx.live) throw new Error('subscriptions need the live hub (API role)');
  return ctx.live;
}

/** A stream of exactly one item (e.g. an expected error), then complete. */
export class SingleItemFollower<T> extends Follower<never, T> {
  constructor(
    ctx: GraphQLContext,
    consumer: Consumer<T>,
    private readonly item: T,
  ) {
    super(ctx, consumer);
  }

  start() {
    // After the current tick, so that a consumer set up around start() sees the item.
    queueMicrotask(() => {
      this.emit(this.item);
      this.finish();
    });
  }

  push() {}
  protected detach() {}
}

export function singleItemStream<T>(ctx: GraphQLContext, item: T): PullStream<T> {
  return new PullStream<T>((consumer) => new SingleItemFollower(ctx, consumer, item));
}
