// Expected failures. Each class is a GraphQL object type implementing the Error interface; a resolver
// throws one and Pothos's errors plugin turns it into a member of the field's result union.
// Message and retryable come from the catalog; detail says what exactly went wrong.
import { builder } from './builder';
import { ERROR_CATALOG, ERROR_CODES, type ErrorCode } from './error-catalog';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  values: Object.fromEntries(
    ERROR_CODES.map((code) => [code, { value: code, description: ERROR_CATALOG[code].description }]),
  ) as unknown as Record<ErrorCode, { value: ErrorCode }>,
});

export const JOB_STATUSES = ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const JobStatusEnum = builder.enumType('JobStatus', { values: JOB_STATUSES });

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

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'Every expected failure: show `message`, branch on `code`.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'Human readable, safe to show to end users.' }),
    code: t.field({ type: ErrorCodeEnum, description: 'Stable, for programs.', resolve: (e) => e.code }),
    detail: t.exposeString('detail', { description: 'Technical detail: what exactly went wrong.' }),
    retryable: t.boolean({ description: 'Whether trying again unchanged can succeed.', resolve: (e) => e.retryable }),
  }),
});

export interface FieldError {
  path: string[];
  message: string;
}
const FieldErrorRef = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the input field, e.g. ["input", "recordedAt"].' }),
    message: t.exposeString('message'),
  }),
});

export class InvalidInputError extends AppError {
  readonly code = 'INVALID_INPUT';
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((f) => `${f.path.join('.')}: ${f.message}`).join('; '));
    this.useCatalogMessage();
  }
}
export class InsufficientCreditsError extends AppError {
  readonly code = 'INSUFFICIENT_CREDITS';
  constructor(readonly required: number, readonly available: number) {
    super(`This job needs ${required} credits; the account has ${available} available.`);
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
export class JobNotFoundError extends AppError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(jobId: string) {
    super(`No job with id '${jobId}' exists.`);
    this.useCatalogMessage();
  }
}
export class JobAlreadyProcessingError extends AppError {
  readonly code = 'JOB_ALREADY_PROCESSING';
  constructor(readonly jobId: string, readonly videoId: string) {
    super(`Job '${jobId}' is currently processing video '${videoId}'.`);
    this.useCatalogMessage();
  }
}
export class JobNotCompleteError extends AppError {
  readonly code = 'JOB_NOT_COMPLETE';
  constructor(jobId: string, readonly status: JobStatus) {
    super(`Job '${jobId}' is currently in status '${status.toLowerCase()}'.`);
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
  constructor(readonly maxBytes: number, detail: string) {
    super(detail);
    this.useCatalogMessage();
  }
}
export const SUPPORTED_FORMATS = ['mp4', 'mov', 'avi', 'mkv', 'webm'] as const;
export class UnsupportedFormatError extends AppError {
  readonly code = 'UNSUPPORTED_FORMAT';
  readonly supportedFormats = [...SUPPORTED_FORMATS];
  constructor(detail: string) {
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

export const JobErrorRef = builder.objectRef<JobErrorShape>('JobError').implement({
  description: "The cause of a job's failure.",
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
    detail: t.exposeString('detail'),
    stage: t.exposeString('stage', { nullable: true, description: 'The stage that failed, if any.' }),
    retryable: t.exposeBoolean('retryable', { description: 'Whether retryJob can be expected to help.' }),
  }),
});

// Registration as object types. The base AppError (and the JS Error) are never registered, so an
// unexpected exception can never become a typed result: Yoga masks it instead.
const plain = { interfaces: [ErrorInterface] };
builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  ...plain,
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (e) => e.fieldErrors }) }),
});
builder.objectType(InsufficientCreditsError, {
  name: 'InsufficientCreditsError',
  ...plain,
  fields: (t) => ({ required: t.exposeInt('required'), available: t.exposeInt('available') }),
});
builder.objectType(ForbiddenError, { name: 'ForbiddenError', ...plain, fields: () => ({}) });
builder.objectType(VideoNotFoundError, { name: 'VideoNotFoundError', ...plain, fields: () => ({}) });
builder.objectType(JobNotFoundError, { name: 'JobNotFoundError', ...plain, fields: () => ({}) });
builder.objectType(JobAlreadyProcessingError, {
  name: 'JobAlreadyProcessingError',
  ...plain,
  fields: (t) => ({ jobId: t.exposeID('jobId'), videoId: t.exposeID('videoId') }),
});
builder.objectType(JobNotCompleteError, {
  name: 'JobNotCompleteError',
  ...plain,
  fields: (t) => ({ status: t.field({ type: JobStatusEnum, resolve: (e) => e.status }) }),
});
builder.objectType(JobTimeoutError, { name: 'JobTimeoutError', ...plain, fields: () => ({}) });
builder.objectType(JobFailedError, {
  name: 'JobFailedError',
  ...plain,
  fields: (t) => ({ error: t.field({ type: JobErrorRef, resolve: (e) => e.error }) }),
});
builder.objectType(FileTooLargeError, {
  name: 'FileTooLargeError',
  ...plain,
  fields: (t) => ({ maxBytes: t.float({ description: 'The limit in bytes.', resolve: (e) => e.maxBytes }) }),
});
builder.objectType(UnsupportedFormatError, {
  name: 'UnsupportedFormatError',
  ...plain,
  fields: (t) => ({ supportedFormats: t.exposeStringList('supportedFormats') }),
});
builder.objectType(VideoCorruptError, { name: 'VideoCorruptError', ...plain, fields: () => ({}) });
builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  ...plain,
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});

const ErrorCodeInfoRef = builder.objectRef<(typeof ERROR_CATALOG)[ErrorCode]>('ErrorCodeInfo').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    httpStatus: t.exposeInt('httpStatus', { description: 'The HTTP status a REST API would answer.' }),
    retryable: t.exposeBoolean('retryable'),
    message: t.exposeString('message'),
    description: t.exposeString('description', { description: 'What it means and what to do next.' }),
  }),
});

builder.queryField('errorCatalog', (t) =>
  t.field({
    type: [ErrorCodeInfoRef],
    description: 'Every error code with its HTTP equivalent, whether it is retryable, and what to do.',
    resolve: () => ERROR_CODES.map((code) => ERROR_CATALOG[code]),
  }),
);
