// Types of the uploads domain's GraphQL API.
import { GraphQLUpload } from 'graphql-upload-ts';
import { UserRef } from '../../auth/graphql/types';
import { findUser } from '../../auth/users';
import { builder } from '../../graphql/builder';
import type { GraphQLContext } from '../../graphql/context';
import type { UserRow, VideoRow } from '../../db/schema/index';
import type { VideoMetadata } from '../../pipeline/types';

builder.addScalarType('Upload', GraphQLUpload, {});

export const VideoMetadataRef = builder.objectRef<VideoMetadata>('VideoMetadata').implement({
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
