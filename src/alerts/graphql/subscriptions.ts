// Subscriptions of the alerts domain's GraphQL API.
import type { AlertRow } from '../../db/schema/index';
import { builder } from '../../graphql/builder';
import { ForbiddenError } from '../../errors/app-errors';
import { Follower, PullStream } from '../../live/follower';
import { asResult, liveFeeds, resultTypeName, singleItemStream } from '../../live/streams';
import { AlertRef } from './types';

const AlertStreamResult = builder.unionType('AlertStreamResult', {
  types: [AlertRef, ForbiddenError],
  resolveType: (value) => resultTypeName(value, 'Alert') as 'Alert',
});

/** Every alert raised from now on, as the live hub pushes them. */
class AlertFollower extends Follower<AlertRow, AlertRow> {
  start() {
    const live = liveFeeds(this.ctx);
    live.alerts.watch(this);
    if (this.watchesRevocation) live.keyRevocations.watch(this.ctx.viewer.keyId, this);
  }

  protected detach() {
    const live = liveFeeds(this.ctx);
    live.alerts.unwatch(this);
    if (this.watchesRevocation) live.keyRevocations.unwatch(this.ctx.viewer.keyId, this);
  }

  push(row: AlertRow) {
    this.emit(row);
  }
}

builder.subscriptionField('alerts', (t) =>
  t.field({
    type: AlertStreamResult,
    description: 'Operator alerts as they are raised (admins only). A non-admin gets one ForbiddenError, then the stream completes.',
    subscribe: (_root, _args, ctx) =>
      (ctx.viewer.isAdmin
        ? new PullStream<AlertRow>((consumer) => new AlertFollower(ctx, consumer))
        : singleItemStream(ctx, asResult(new ForbiddenError('Only an admin may subscribe to alerts.'), ForbiddenError))) as AsyncIterable<AlertRow>,
    resolve: (value) => value,
  }),
);
