// Queries of the uploads domain's GraphQL API.
import { builder } from '../../graphql/builder';
import { ForbiddenError, InvalidInputError, VideoNotFoundError } from '../../errors/app-errors';
import type { PageInfoShape } from '../../db/pagination';
import { PageInfoRef } from '../../graphql/pagination';
import { getVisibleVideo, listVideos } from '../queries';
import type { VideoRow } from '../../db/schema/index';
import { VideoRef } from './types';

interface VideoConnectionShape {
  nodes: VideoRow[];
  pageInfo: PageInfoShape;
}

const VideoConnectionRef = builder.objectRef<VideoConnectionShape>('VideoConnection').implement({
  fields: (t) => ({
    nodes: t.field({ type: [VideoRef], resolve: (c) => c.nodes }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
  }),
});

builder.queryField('video', (t) =>
  t.field({
    type: VideoRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [VideoNotFoundError], directResult: true, union: { name: 'VideoResult' } },
    resolve: (_root, { id }, ctx) => getVisibleVideo(ctx.services.database.db, ctx.viewer, id),
  }),
);

builder.queryField('videos', (t) =>
  t.field({
    type: VideoConnectionRef,
    description: "Newest first. Users see their own videos; admins everyone's, or one owner's with ownerId.",
    args: {
      first: t.arg.int({ description: 'Page size, 1–100 (default 20).' }),
      after: t.arg.string({ description: 'pageInfo.endCursor of the previous page.' }),
      ownerId: t.arg.id({ description: "Only this owner's videos (admins; users may name only themselves)." }),
    },
    errors: { types: [InvalidInputError, ForbiddenError], directResult: true, union: { name: 'VideosResult' } },
    resolve: (_root, args, ctx) => listVideos(ctx.services.database.db, ctx.viewer, args),
  }),
);
