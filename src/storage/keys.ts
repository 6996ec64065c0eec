// Where things are in storage, the same for every driver: a video's source under uploads/<videoId>/,
// a job's output files under outputs/<jobId>/.
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
