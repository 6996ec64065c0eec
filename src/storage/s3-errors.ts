// What an S3 error says, read the same way by the driver and the abort of multipart uploads.
import type { S3ServiceException } from '@aws-sdk/client-s3';

/** The HTTP status the server answered, or undefined when it did not answer (the network). */
export function statusOf(error: unknown): number | undefined {
  return (error as S3ServiceException)?.$metadata?.httpStatusCode;
}

/** The object or the multipart upload is not there (a 404, whatever name the server gives it). */
export function isNotFound(error: unknown): boolean {
  const name = (error as S3ServiceException)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload' || statusOf(error) === 404;
}

/** One short phrase: `405 MethodNotAllowed` for an answer, the socket's code (`ECONNREFUSED`) without one. */
export function describeS3Error(error: unknown): string {
  const status = statusOf(error);
  if (status) return `${status} ${(error as S3ServiceException).name}`;
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
