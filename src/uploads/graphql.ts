// The uploads domain's GraphQL: the Upload scalar, Video and its metadata, uploadVideo, video,
// videos and deleteVideo. The jobs domain adds Video.jobs to VideoRef.
import { GraphQLUpload } from 'graphql-upload-ts';
import { UserRef } from '../auth/graphql';
import { findUser } from '../auth/users';
import { builder } from '../graphql/builder';
import type { GraphQLContext } from '../graphql/context';
import { FileTooLargeError, ForbiddenError, InvalidInputError, JobAlreadyProcessingError, UnsupportedFormatError, VideoCorruptError, VideoNotFoundError } from '../errors/app-errors';
import type { PageInfoShape } from '../db/pagination';
import { PageInfoRef } from '../graphql/pagination';
import { deleteVideo, getVisibleVideo, listVideos } from './queries';
import { MAX_IDEMPOTENCY_KEY_CHARS, MAX_TITLE_CHARS, uploadVideo } from './upload';
import type { UserRow, VideoRow } from '../db/schema/index';
import type { VideoMetadata } from '../pipeline/types';

builder.addScalarType('Upload', GraphQLUpload, {});

const VideoMetadataRef = builder.objectRef<VideoMetadata>('VideoMetadata').implement({
  description: 'What ffprobe measured at upload.',
  fields: (t) => ({
    durationSeconds: t.exposeFloat('durationSeconds'),
    width: t.exposeInt('width', { description: 'Displayed width (rotation applied).' }),
    height: t.exposeInt('height', { description: 'Displayed height (rotation applied).' }),
    videoCodec: t.exposeString('videoCodec'),
    audioCodec: t.exposeString('audioCodec', { nullable: true, description: 'Null when the video has no audio.' }),
    frameRate: t.exposeFloat('frameRate', { description: 'Frames per second; 0 when unknown.' }),
    bitRate: t.float({
      nullable: true,
      description: 'Bits per second of the whole file.',
      resolve: (m) => m.bitRate ?? null,
    }),
  }),
});

/** Owners of the videos of one request, loaded once each (the viewer's own row is already there). */
const ownerCache = new WeakMap<GraphQLContext, Map<string, Promise<UserRow | null>>>();
function loadOwner(ctx: GraphQLContext, id: string): Promise<UserRow | null> {
  if (id === ctx.viewer.id && ctx.viewer.user) return Promise.resolve(ctx.viewer.user);
  let cache = ownerCache.get(ctx);
  if (!cache) ownerCache.set(ctx, (cache = new Map()));
  let user = cache.get(id);
  if (!user) cache.set(id, (user = findUser(ctx.services.database.db, id)));
  return user;
}

export const VideoRef = builder.objectRef<VideoRow>('Video').implement({
  description: 'An uploaded source video.',
  fields: (t) => ({
    id: t.exposeID('id'),
    filename: t.exposeString('filename', { description: "The client's filename, sanitized (display only)." }),
    title: t.exposeString('title', { nullable: true }),
    format: t.exposeString('format', { description: 'Container: mp4, mov, avi, mkv or webm (judged by the bytes).' }),
    contentType: t.exposeString('contentType'),
    sizeBytes: t.float({ resolve: (v) => v.sizeBytes }),
    sha256: t.exposeString('sha256', { description: 'SHA-256 of the file, hex.' }),
    metadata: t.field({ type: VideoMetadataRef, resolve: (v) => v.metadata }),
    owner: t.field({
      type: UserRef,
      resolve: async (v, _args, ctx) => {
        const owner = await loadOwner(ctx, v.ownerId);
        if (!owner) throw new Error(`owner ${v.ownerId} of video ${v.id} vanished`);
        return owner;
      },
    }),
    recordedAt: t.field({ type: 'DateTime', nullable: true, resolve: (v) => v.recordedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (v) => v.createdAt }),
  }),
});

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

const UploadVideoInput = builder.inputType('UploadVideoInput', {
  fields: (t) => ({
    file: t.field({ type: 'Upload', required: true, description: 'The video: mp4, mov, avi, mkv or webm.' }),
    title: t.string({ description: `At most ${MAX_TITLE_CHARS} characters.` }),
    ownerId: t.id({ description: 'Admins only: upload on behalf of this user.' }),
    recordedAt: t.field({ type: 'DateTime', description: 'When the video was recorded.' }),
    idempotencyKey: t.string({
      description: `Up to ${MAX_IDEMPOTENCY_KEY_CHARS} characters. Repeating an upload with the same key returns the first video and stores nothing new.`,
    }),
  }),
});

builder.mutationField('uploadVideo', (t) =>
  t.field({
    type: VideoRef,
    description: 'Uploads one video (GraphQL multipart request), streamed to disk and checked with ffprobe.',
    args: { input: t.arg({ type: UploadVideoInput, required: true }) },
    errors: {
      types: [UnsupportedFormatError, FileTooLargeError, VideoCorruptError, InvalidInputError, ForbiddenError],
      result: { name: 'UploadVideoSuccess' },
      dataField: { name: 'video' },
      union: { name: 'UploadVideoResult' },
    },
    resolve: (_root, { input }, ctx) => uploadVideo(ctx, input),
  }),
);

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

builder.mutationField('deleteVideo', (t) =>
  t.field({
    type: 'ID',
    description: 'Deletes a video, its jobs and every file of them. Refused while one of its jobs is queued or processing.',
    args: { id: t.arg.id({ required: true }) },
    errors: {
      types: [VideoNotFoundError, JobAlreadyProcessingError],
      result: { name: 'DeleteVideoSuccess' },
      dataField: { name: 'videoId' },
      union: { name: 'DeleteVideoResult' },
    },
    resolve: async (_root, { id }, ctx) => {
      const { row, jobIds } = await deleteVideo(ctx.services.database.db, ctx.services.config, ctx.viewer, id);
      ctx.log().info({ videoId: row.id, ownerId: row.ownerId, jobIds, sizeBytes: row.sizeBytes }, 'video deleted');
      return row.id;
    },
  }),
);
