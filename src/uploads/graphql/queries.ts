// Queries of the uploads domain's GraphQL API.
import { builder } from '../../graphql/builder';
import { ForbiddenError, InvalidInputError, VideoNotFoundError } from '../../errors/app-errors';
import { connectionRef } from '../../graphql/pagination';
import { getVisibleVideo, listVideos } from '../queries';
import { VideoRef } from './types';

const VideoConnectionRef = connectionRef('VideoConnection', VideoRef);

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
