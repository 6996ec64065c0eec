// The GraphQL side of the expected failures (src/errors): the Error interface, and each error class
// registered as an object type, so Pothos's errors plugin turns a thrown one into a member of the
// field's result union. Plus the errorCatalog query.
import {
  type AppError,
  FileTooLargeError,
  type FieldError,
  ForbiddenError,
  InsufficientCreditsError,
  InvalidInputError,
  JobAlreadyProcessingError,
  type JobErrorShape,
  JobFailedError,
  JobNotCompleteError,
  JobNotFoundError,
  JobTimeoutError,
  RateLimitedError,
  UnsupportedFormatError,
  VideoCorruptError,
  VideoNotFoundError,
  UploadNotFoundError,
  UploadIncompleteError,
} from '../errors/app-errors';
import { ERROR_CATALOG, ERROR_CODES, type ErrorCode } from '../errors/catalog';
import { JOB_STATUSES } from '../jobs/status';
import { builder } from './builder';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  values: Object.fromEntries(ERROR_CODES.map((code) => [code, { value: code, description: ERROR_CATALOG[code].description }])) as unknown as Record<
    ErrorCode,
    { value: ErrorCode }
  >,
});

export const JobStatusEnum = builder.enumType('JobStatus', { values: JOB_STATUSES });

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'Every expected failure: show `message`, branch on `code`.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'Human readable, safe to show to end users.' }),
    code: t.field({ type: ErrorCodeEnum, description: 'Stable, for programs.', resolve: (e) => e.code }),
    detail: t.exposeString('detail', { description: 'Technical detail: what exactly went wrong.' }),
    retryable: t.boolean({ description: 'Whether trying again unchanged can succeed.', resolve: (e) => e.retryable }),
  }),
});

const FieldErrorRef = builder.objectRef<FieldError>('FieldError').implement({
  fields: (t) => ({
    path: t.exposeStringList('path', { description: 'Path of the input field, e.g. ["input", "recordedAt"].' }),
    message: t.exposeString('message'),
  }),
});

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
builder.objectType(UploadNotFoundError, { name: 'UploadNotFoundError', ...plain, fields: () => ({}) });
builder.objectType(UploadIncompleteError, {
  name: 'UploadIncompleteError',
  ...plain,
  fields: (t) => ({
    offset: t.float({ description: 'Bytes received so far.', resolve: (e) => e.offset }),
    length: t.float({ nullable: true, description: 'Bytes announced (Upload-Length); null when deferred.', resolve: (e) => e.length }),
  }),
});
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
