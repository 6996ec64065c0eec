// Where things are in storage, the same for every driver: a video's source under uploads/<videoId>/,
// a job's output files under outputs/<jobId>/, a finished resumable upload (s3) under tus/<uploadId>/.
import path from 'node:path';

export function storedVideoPrefix(videoId: string): string {
  return `uploads/${videoId}/`;
}

export function storedVideoKey(videoId: string, format: string): string {
  return path.posix.join(storedVideoPrefix(videoId), `source.${format}`);
}

export function jobOutputsPrefix(jobId: string): string {
  return `outputs/${jobId}/`;
}

export function outputKey(jobId: string, file: string): string {
  return `${jobOutputsPrefix(jobId)}${file}`;
}

/** A finished resumable upload moved into the bucket (src/uploads/tus/finished.ts). */
export function finishedUploadPrefix(uploadId: string): string {
  return `tus/${uploadId}/`;
}

export function finishedUploadKey(uploadId: string): string {
  return `${finishedUploadPrefix(uploadId)}data`;
}
