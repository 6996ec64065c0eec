// Expected failures, as classes a domain throws: each has a stable code from the catalog (its
// message and whether retrying helps come from there) and a detail saying what exactly went wrong.
// Nothing here knows GraphQL: src/graphql/errors.ts registers each class as a member of the result
// unions, so a worker process can throw them without loading the schema builder.
import type { JobStatus } from '../jobs/status';
import { ERROR_CATALOG, type ErrorCode } from './catalog';

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  readonly detail: string;
  constructor(detail: string, message?: string) {
    super(message ?? '');
    this.detail = detail;
  }
  get retryable(): boolean {
    return ERROR_CATALOG[this.code].retryable;
  }
  protected useCatalogMessage() {
    if (!this.message) this.message = ERROR_CATALOG[this.code].message;
  }
}

export interface FieldError {
  path: string[];
  message: string;
}
export class InvalidInputError extends AppError {
  readonly code = 'INVALID_INPUT';
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((f) => `${f.path.join('.')}: ${f.message}`).join('; '));
    this.useCatalogMessage();
  }
}
export class InsufficientCreditsError extends AppError {
  readonly code = 'INSUFFICIENT_CREDITS';
  constructor(
    readonly required: number,
    readonly available: number,
  ) {
    super(
      `This job needs ${required} credits; the account has ${available} available. ` +
        'An admin can add credits (grantCredits, or `vidq credits add USER_ID AMOUNT`); model FAST costs the least (see pricing).',
    );
    this.useCatalogMessage();
  }
}
export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor(detail: string) {
    super(detail);
    this.useCatalogMessage();
  }
}
export class VideoNotFoundError extends AppError {
  readonly code = 'VIDEO_NOT_FOUND';
  constructor(videoId: string) {
    super(`No video with id '${videoId}' exists.`);
    this.useCatalogMessage();
  }
}
export class UploadNotFoundError extends AppError {
  readonly code = 'UPLOAD_NOT_FOUND';
  constructor(uploadId: string) {
    super(
      `No upload with id '${uploadId}' is waiting to become a video: it is unknown, another user's, expired (UPLOAD_EXPIRY_HOURS), or already made into one (query videos). Upload the file again to /uploads.`,
    );
    this.useCatalogMessage();
  }
}
export class UploadIncompleteError extends AppError {
  readonly code = 'UPLOAD_INCOMPLETE';
  constructor(
    uploadId: string,
    readonly offset: number,
    readonly length: number | null,
  ) {
    super(`Upload '${uploadId}' has ${offset} of ${length ?? 'an undeclared number of'} bytes.`);
    this.useCatalogMessage();
  }
}
export class JobNotFoundError extends AppError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(jobId: string) {
    super(`No job with id '${jobId}' exists.`);
    this.useCatalogMessage();
  }
}
export class JobAlreadyProcessingError extends AppError {
  readonly code = 'JOB_ALREADY_PROCESSING';
  constructor(
    readonly jobId: string,
    readonly videoId: string,
  ) {
    super(`Job '${jobId}' is currently processing video '${videoId}'.`);
    this.useCatalogMessage();
  }
}
export class JobNotCompleteError extends AppError {
  readonly code = 'JOB_NOT_COMPLETE';
  constructor(
    jobId: string,
    readonly status: JobStatus,
  ) {
    // A cancelled job will not complete by waiting: its detail says what will.
    super(
      status === 'CANCELLED'
        ? `Job '${jobId}' was cancelled before it completed: call retryJob to run it again (finished stages are kept).`
        : `Job '${jobId}' is currently in status '${status.toLowerCase()}'.`,
    );
    this.useCatalogMessage();
  }
}
export class JobTimeoutError extends AppError {
  readonly code = 'JOB_TIMEOUT';
  constructor(detail: string) {
    super(detail);
    this.useCatalogMessage();
  }
}
export interface JobErrorShape {
  code: ErrorCode;
  message: string;
  detail: string;
  stage: string | null;
  retryable: boolean;
}
export class JobFailedError extends AppError {
  readonly code = 'JOB_FAILED';
  constructor(readonly error: JobErrorShape) {
    super(error.detail || error.message);
    this.useCatalogMessage();
  }
}
export class FileTooLargeError extends AppError {
  readonly code = 'FILE_TOO_LARGE';
  constructor(
    readonly maxBytes: number,
    detail: string,
  ) {
    super(detail);
    this.useCatalogMessage();
  }
}
export class UnsupportedFormatError extends AppError {
  readonly code = 'UNSUPPORTED_FORMAT';
  constructor(
    detail: string,
    readonly supportedFormats: readonly string[],
  ) {
    super(detail);
    this.useCatalogMessage();
  }
}
export class VideoCorruptError extends AppError {
  readonly code = 'VIDEO_CORRUPT';
  constructor(detail: string) {
    super(detail);
    this.useCatalogMessage();
  }
}
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests; retry after ${retryAfterSeconds} seconds.`);
    this.useCatalogMessage();
  }
}
