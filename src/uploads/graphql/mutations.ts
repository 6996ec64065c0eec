// Mutations of the uploads domain's GraphQL API.
import { builder } from '../../graphql/builder';
import {
  AppError,
  FileTooLargeError,
  ForbiddenError,
  InvalidInputError,
  JobAlreadyProcessingError,
  UnsupportedFormatError,
  UploadIncompleteError,
  UploadNotFoundError,
  VideoCorruptError,
  VideoNotFoundError,
} from '../../errors/app-errors';
import { metrics } from '../../metrics/index';
import type { VideoRow } from '../../db/schema/index';
import { createVideoFromUpload } from '../tus/create-video';
import { deleteVideo } from '../queries';
import { MAX_IDEMPOTENCY_KEY_CHARS, MAX_TITLE_CHARS, uploadVideo } from '../upload';
import { VideoRef } from './types';

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

/** uploadVideo and createVideoFromUpload answer the same union (so one client fragment serves both). */
const uploadResult = {
  types: [UnsupportedFormatError, FileTooLargeError, VideoCorruptError, InvalidInputError, ForbiddenError, UploadNotFoundError, UploadIncompleteError],
  result: { name: 'UploadVideoSuccess' },
  dataField: { name: 'video' },
  union: { name: 'UploadVideoResult' },
};

builder.mutationField('uploadVideo', (t) =>
  t.field({
    type: VideoRef,
    description: 'Uploads one video (GraphQL multipart request), streamed to disk and checked with ffprobe.',
    args: { input: t.arg({ type: UploadVideoInput, required: true }) },
    errors: uploadResult,
    resolve: (_root, { input }, ctx) => countedUpload(uploadVideo(ctx, input)),
  }),
);

/** vidq_uploads_total{result}: success or the error code; vidq_upload_bytes_total for the videos made. */
async function countedUpload(upload: Promise<VideoRow>): Promise<VideoRow> {
  try {
    const video = await upload;
    metrics.uploads.inc({ result: 'success' });
    metrics.uploadBytes.inc(video.sizeBytes);
    return video;
  } catch (error) {
    metrics.uploads.inc({ result: error instanceof AppError ? error.code : 'INTERNAL_ERROR' });
    throw error;
  }
}

const CreateVideoFromUploadInput = builder.inputType('CreateVideoFromUploadInput', {
  fields: (t) => ({
    uploadId: t.id({ required: true, description: 'The last path segment of the tus Location URL (upl_…).' }),
    title: t.string({ description: `At most ${MAX_TITLE_CHARS} characters.` }),
    ownerId: t.id({ description: 'Admins only: the video is this user’s.' }),
    recordedAt: t.field({ type: 'DateTime', description: 'When the video was recorded.' }),
    idempotencyKey: t.string({
      description: `Up to ${MAX_IDEMPOTENCY_KEY_CHARS} characters. Repeating the call with the same key returns the first video.`,
    }),
  }),
});

builder.mutationField('createVideoFromUpload', (t) =>
  t.field({
    type: VideoRef,
    description:
      'Makes a finished resumable upload (tus, at /uploads) a video, with the checks uploadVideo runs. On success the upload is consumed; on a refusal it is removed and nothing is stored.',
    args: { input: t.arg({ type: CreateVideoFromUploadInput, required: true }) },
    errors: uploadResult,
    resolve: (_root, { input }, ctx) => countedUpload(createVideoFromUpload(ctx, input)),
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
      const { row, jobIds } = await deleteVideo({ db: ctx.services.database.db, storage: ctx.services.storage, log: ctx.log() }, ctx.viewer, id);
      ctx.log().info({ videoId: row.id, ownerId: row.ownerId, jobIds, sizeBytes: row.sizeBytes }, 'video deleted');
      return row.id;
    },
  }),
);
