/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Key out a coloured background (green screen). */
export type BackgroundInput = {
  /** Hex colour to key out. Default #00ff00. */
  color?: string | null | undefined;
  /** Default true. */
  remove?: boolean | null | undefined;
  /** Hex colour behind the subject. Omit for transparency (WEBM only). */
  replaceWith?: string | null | undefined;
  /** 0.01..1, how close a colour must be to be keyed. Default 0.3. */
  similarity?: number | null | undefined;
};

export type CreateVideoFromUploadInput = {
  /** Up to 255 characters. Repeating the call with the same key returns the first video. */
  idempotencyKey?: string | null | undefined;
  /** Admins only: the video is this user’s. */
  ownerId?: string | number | null | undefined;
  /** When the video was recorded. */
  recordedAt?: string | Date | null | undefined;
  /** At most 200 characters. */
  title?: string | null | undefined;
  /** The last path segment of the tus Location URL (upl_…). */
  uploadId: string | number;
};

export type ErrorCode =
  /** Trim or compress the video before uploading, or ask your administrator to raise MAX_FILE_SIZE_MB. */
  | 'FILE_TOO_LARGE'
  /** Only an admin may act on behalf of another user or use admin-only operations. */
  | 'FORBIDDEN'
  /** The job costs more credits than the account has available. Top up credits before retrying, or pick a cheaper model. */
  | 'INSUFFICIENT_CREDITS'
  /** Something unexpected failed. Quote the request id or job id to your administrator. */
  | 'INTERNAL_ERROR'
  /** Wrong key or key disabled: create a new key and check which key your environment uses. */
  | 'INVALID_API_KEY'
  /** A field is missing or malformed; fieldErrors names each field and why. Fix the request and send it again. */
  | 'INVALID_INPUT'
  /** Wait for the existing job to complete or fail (follow it with the jobUpdated subscription) before submitting another. */
  | 'JOB_ALREADY_PROCESSING'
  /** The job stopped with an error; JobFailedError.error carries the root cause, the stage and whether retryJob can help. */
  | 'JOB_FAILED'
  /** Fetch results once the job status is COMPLETED: subscribe to jobUpdated or poll every 5–15 seconds. */
  | 'JOB_NOT_COMPLETE'
  /** No job with that id exists for this account. Finished jobs are removed after the retention period. */
  | 'JOB_NOT_FOUND'
  /** The job ran longer than its time limit and was stopped; it is not retried automatically. Call retryJob with a longer timeoutSeconds (finished stages are kept; at most PROCESSING_TIMEOUT_SECONDS), or trim the video. */
  | 'JOB_TIMEOUT'
  /** Wait retryAfterSeconds before sending again. */
  | 'RATE_LIMITED'
  /** A transient failure (lost connection, crashed worker, full disk). Jobs are retried automatically; otherwise try again later. */
  | 'SERVICE_UNAVAILABLE'
  /** Send the key as "Authorization: Bearer vq_…" (HTTP) or in connectionParams.authorization (WebSocket). */
  | 'UNAUTHENTICATED'
  /** Accepted: mp4, mov, avi, mkv, webm. Convert first, e.g. ffmpeg -i input.flv -c:v libx264 -c:a aac output.mp4 */
  | 'UNSUPPORTED_FORMAT'
  /** Finish the upload (resume it from its URL with your tus client), then call createVideoFromUpload again. */
  | 'UPLOAD_INCOMPLETE'
  /** No resumable upload with that id exists for this API key’s user: unknown, expired (UPLOAD_EXPIRY_HOURS), already made into a video, or another user’s. Upload the file again. */
  | 'UPLOAD_NOT_FOUND'
  /** The decoder could not read the file (truncated, damaged or without a video stream). Re-export the video and upload it again. */
  | 'VIDEO_CORRUPT'
  /** No video with that id exists for this account. Check the id; the video may have been deleted. */
  | 'VIDEO_NOT_FOUND'
  /** The endpoint did not answer 2xx within 10 seconds after every retry. The job itself is unaffected: query it directly, fix the endpoint and call redeliverWebhook. */
  | 'WEBHOOK_DELIVERY_FAILED';

export type JobEventType =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'PROGRESS'
  | 'QUEUED'
  | 'RETRY_SCHEDULED'
  | 'STAGE_COMPLETED'
  | 'STAGE_STARTED'
  | 'STARTED'
  | 'TIMED_OUT';

export type JobStatus =
  | 'CANCELLED'
  | 'COMPLETED'
  | 'FAILED'
  | 'PROCESSING'
  | 'QUEUED'
  | 'TIMED_OUT';

export type OutputFormat =
  /** H.264/AAC. Cannot carry transparency. */
  | 'MP4'
  /** VP9/Opus. Keeps an alpha channel when the background is removed. */
  | 'WEBM';

export type ProcessingModel =
  /** At most 480p, fast preset: previews and drafts. */
  | 'FAST'
  /** Source resolution, balanced preset. */
  | 'ORIGINAL'
  /** Source resolution, slower preset, higher quality. */
  | 'PRO';

export type StageStatus =
  | 'COMPLETED'
  | 'FAILED'
  | 'PENDING'
  | 'RUNNING'
  | 'SKIPPED';

export type SubmitJobInput = {
  background?: BackgroundInput | null | undefined;
  /** A repeat with the same key returns the first job. */
  idempotencyKey?: string | null | undefined;
  model?: ProcessingModel | null | undefined;
  outputFormat?: OutputFormat | null | undefined;
  /** Which pipeline runs (the `pipelines` query lists them). */
  pipeline?: string | null | undefined;
  /** Options per stage, e.g. {"loudnorm": {"targetLufs": -16}}, each checked against that stage's optionsSchema. */
  stageOptions?: Record<string, unknown> | null | undefined;
  /** At most PROCESSING_TIMEOUT_SECONDS (the default). */
  timeoutSeconds?: number | null | undefined;
  videoId: string | number;
  /** Receives job.completed / failed / timed_out / cancelled, signed with viewer.webhookSecret. */
  webhookUrl?: string | null | undefined;
};

type ErrorFields_FileTooLargeError_Fragment = { __typename: 'FileTooLargeError', maxBytes: number, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_ForbiddenError_Fragment = { __typename: 'ForbiddenError', code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_InsufficientCreditsError_Fragment = { __typename: 'InsufficientCreditsError', required: number, available: number, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_InvalidInputError_Fragment = { __typename: 'InvalidInputError', code: ErrorCode, message: string, detail: string, retryable: boolean, fieldErrors: Array<{ path: Array<string>, message: string }> };

type ErrorFields_JobAlreadyProcessingError_Fragment = { __typename: 'JobAlreadyProcessingError', jobId: string, videoId: string, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_JobFailedError_Fragment = { __typename: 'JobFailedError', code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_JobNotCompleteError_Fragment = { __typename: 'JobNotCompleteError', status: JobStatus, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_JobNotFoundError_Fragment = { __typename: 'JobNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_JobTimeoutError_Fragment = { __typename: 'JobTimeoutError', code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_RateLimitedError_Fragment = { __typename: 'RateLimitedError', retryAfterSeconds: number, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_UnsupportedFormatError_Fragment = { __typename: 'UnsupportedFormatError', supportedFormats: Array<string>, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_UploadIncompleteError_Fragment = { __typename: 'UploadIncompleteError', offset: number, length: number | null, code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_UploadNotFoundError_Fragment = { __typename: 'UploadNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_VideoCorruptError_Fragment = { __typename: 'VideoCorruptError', code: ErrorCode, message: string, detail: string, retryable: boolean };

type ErrorFields_VideoNotFoundError_Fragment = { __typename: 'VideoNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean };

export type ErrorFieldsFragment =
  | ErrorFields_FileTooLargeError_Fragment
  | ErrorFields_ForbiddenError_Fragment
  | ErrorFields_InsufficientCreditsError_Fragment
  | ErrorFields_InvalidInputError_Fragment
  | ErrorFields_JobAlreadyProcessingError_Fragment
  | ErrorFields_JobFailedError_Fragment
  | ErrorFields_JobNotCompleteError_Fragment
  | ErrorFields_JobNotFoundError_Fragment
  | ErrorFields_JobTimeoutError_Fragment
  | ErrorFields_RateLimitedError_Fragment
  | ErrorFields_UnsupportedFormatError_Fragment
  | ErrorFields_UploadIncompleteError_Fragment
  | ErrorFields_UploadNotFoundError_Fragment
  | ErrorFields_VideoCorruptError_Fragment
  | ErrorFields_VideoNotFoundError_Fragment
;

export type VideoFieldsFragment = { id: string, filename: string, format: string, contentType: string, sizeBytes: number, sha256: string, title: string | null, recordedAt: string | null, createdAt: string, metadata: { durationSeconds: number, width: number, height: number, videoCodec: string, audioCodec: string | null, frameRate: number, bitRate: number | null } };

export type JobFieldsFragment = { id: string, status: JobStatus, progress: number, stage: string | null, attempt: number, maxAttempts: number, timeoutSeconds: number, createdAt: string, startedAt: string | null, finishedAt: string | null, webhookUrl: string | null, video: { id: string }, options: { model: ProcessingModel, outputFormat: OutputFormat }, stages: Array<{ name: string, status: StageStatus, attempts: number, progress: number }>, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null };

export type JobEventFieldsFragment = { __typename: 'JobEvent', jobId: string, sequence: number, type: JobEventType, status: JobStatus, progress: number, stage: string | null, at: string, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null, details:
    | { __typename: 'JobEndedDetails', retriesExhausted: boolean, cancelledBy: string | null, wasStatus: JobStatus | null }
    | { __typename: 'JobQueuedDetails', costCredits: number | null, stages: Array<string> | null, retryOf: JobStatus | null, keptStages: Array<string> | null }
    | { __typename: 'JobStartedDetails', attempt: number | null, maxAttempts: number | null, recovered: boolean }
    | { __typename: 'RetryScheduledDetails', attempt: number | null, retriesLeft: number | null, reason: string | null, backoff: string | null }
    | { __typename: 'StageCompletedDetails', stageStatus: StageStatus, skipReason: string | null }
    | { __typename: 'StageProgressDetails', stageProgress: number }
    | { __typename: 'StageStartedDetails', attempt: number | null }
   };

export type CreateVideoFromUploadMutationVariables = Exact<{
  input: CreateVideoFromUploadInput;
}>;


export type CreateVideoFromUploadMutation = { createVideoFromUpload:
    | { __typename: 'FileTooLargeError', maxBytes: number, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'ForbiddenError', code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string, detail: string, retryable: boolean, fieldErrors: Array<{ path: Array<string>, message: string }> }
    | { __typename: 'UnsupportedFormatError', supportedFormats: Array<string>, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'UploadIncompleteError', offset: number, length: number | null, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'UploadNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'UploadVideoSuccess', video: { id: string, filename: string, format: string, contentType: string, sizeBytes: number, sha256: string, title: string | null, recordedAt: string | null, createdAt: string, metadata: { durationSeconds: number, width: number, height: number, videoCodec: string, audioCodec: string | null, frameRate: number, bitRate: number | null } } }
    | { __typename: 'VideoCorruptError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export type SubmitJobMutationVariables = Exact<{
  input: SubmitJobInput;
}>;


export type SubmitJobMutation = { submitJob:
    | { __typename: 'ForbiddenError', code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'InsufficientCreditsError', required: number, available: number, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string, detail: string, retryable: boolean, fieldErrors: Array<{ path: Array<string>, message: string }> }
    | { __typename: 'JobAlreadyProcessingError', jobId: string, videoId: string, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'SubmitJobSuccess', job: { id: string, status: JobStatus, progress: number, stage: string | null, attempt: number, maxAttempts: number, timeoutSeconds: number, createdAt: string, startedAt: string | null, finishedAt: string | null, webhookUrl: string | null, video: { id: string }, options: { model: ProcessingModel, outputFormat: OutputFormat }, stages: Array<{ name: string, status: StageStatus, attempts: number, progress: number }>, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null } }
    | { __typename: 'VideoNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export type JobQueryVariables = Exact<{
  id: string | number;
}>;


export type JobQuery = { job:
    | { __typename: 'Job', id: string, status: JobStatus, progress: number, stage: string | null, attempt: number, maxAttempts: number, timeoutSeconds: number, createdAt: string, startedAt: string | null, finishedAt: string | null, webhookUrl: string | null, video: { id: string }, options: { model: ProcessingModel, outputFormat: OutputFormat }, stages: Array<{ name: string, status: StageStatus, attempts: number, progress: number }>, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null }
    | { __typename: 'JobNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export type VideoQueryVariables = Exact<{
  id: string | number;
}>;


export type VideoQuery = { video:
    | { __typename: 'Video', id: string, filename: string, format: string, contentType: string, sizeBytes: number, sha256: string, title: string | null, recordedAt: string | null, createdAt: string, metadata: { durationSeconds: number, width: number, height: number, videoCodec: string, audioCodec: string | null, frameRate: number, bitRate: number | null } }
    | { __typename: 'VideoNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export type CancelJobMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelJobMutation = { cancelJob:
    | { __typename: 'CancelJobSuccess', job: { id: string, status: JobStatus, progress: number, stage: string | null, attempt: number, maxAttempts: number, timeoutSeconds: number, createdAt: string, startedAt: string | null, finishedAt: string | null, webhookUrl: string | null, video: { id: string }, options: { model: ProcessingModel, outputFormat: OutputFormat }, stages: Array<{ name: string, status: StageStatus, attempts: number, progress: number }>, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null } }
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string, detail: string, retryable: boolean, fieldErrors: Array<{ path: Array<string>, message: string }> }
    | { __typename: 'JobNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export type RetryJobMutationVariables = Exact<{
  id: string | number;
  timeoutSeconds?: number | null | undefined;
}>;


export type RetryJobMutation = { retryJob:
    | { __typename: 'InsufficientCreditsError', required: number, available: number, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'InvalidInputError', code: ErrorCode, message: string, detail: string, retryable: boolean, fieldErrors: Array<{ path: Array<string>, message: string }> }
    | { __typename: 'JobAlreadyProcessingError', jobId: string, videoId: string, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'JobNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'RetryJobSuccess', job: { id: string, status: JobStatus, progress: number, stage: string | null, attempt: number, maxAttempts: number, timeoutSeconds: number, createdAt: string, startedAt: string | null, finishedAt: string | null, webhookUrl: string | null, video: { id: string }, options: { model: ProcessingModel, outputFormat: OutputFormat }, stages: Array<{ name: string, status: StageStatus, attempts: number, progress: number }>, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null } }
   };

export type JobOutputQueryVariables = Exact<{
  jobId: string | number;
}>;


export type JobOutputQuery = { jobOutput:
    | { __typename: 'JobFailedError', code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'JobNotCompleteError', status: JobStatus, code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'JobNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
    | { __typename: 'JobOutput', jobId: string, results: Record<string, unknown>, files: Array<{ kind: string, stage: string, url: string, contentType: string, sizeBytes: number }>, probe: { durationSeconds: number, width: number, height: number, videoCodec: string, audioCodec: string | null, frameRate: number, bitRate: number | null } | null, transcode: { file: string, format: string, codec: string, audioCodec: string | null, width: number, height: number, durationSeconds: number, sizeBytes: number, hasAlpha: boolean } | null, thumbnails: { width: number, poster: { file: string, time: number }, thumbnails: Array<{ file: string, time: number }> } | null, audio: { durationSeconds: number, loudness: { integratedLufs: number | null, loudnessRangeLu: number | null, truePeakDbfs: number | null }, silences: Array<{ start: number, end: number }> } | null, scenes: { threshold: number, scenes: Array<{ index: number, start: number, end: number, hash: string }> } | null }
    | { __typename: 'JobTimeoutError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export type JobUpdatedSubscriptionVariables = Exact<{
  jobId: string | number;
  afterSequence?: number | null | undefined;
}>;


export type JobUpdatedSubscription = { jobUpdated:
    | { __typename: 'JobEvent', jobId: string, sequence: number, type: JobEventType, status: JobStatus, progress: number, stage: string | null, at: string, error: { code: ErrorCode, message: string, detail: string, stage: string | null, retryable: boolean } | null, details:
        | { __typename: 'JobEndedDetails', retriesExhausted: boolean, cancelledBy: string | null, wasStatus: JobStatus | null }
        | { __typename: 'JobQueuedDetails', costCredits: number | null, stages: Array<string> | null, retryOf: JobStatus | null, keptStages: Array<string> | null }
        | { __typename: 'JobStartedDetails', attempt: number | null, maxAttempts: number | null, recovered: boolean }
        | { __typename: 'RetryScheduledDetails', attempt: number | null, retriesLeft: number | null, reason: string | null, backoff: string | null }
        | { __typename: 'StageCompletedDetails', stageStatus: StageStatus, skipReason: string | null }
        | { __typename: 'StageProgressDetails', stageProgress: number }
        | { __typename: 'StageStartedDetails', attempt: number | null }
       }
    | { __typename: 'JobNotFoundError', code: ErrorCode, message: string, detail: string, retryable: boolean }
   };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ErrorFieldsFragmentDoc = new TypedDocumentString(`
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
    `, {"fragmentName":"ErrorFields"}) as unknown as TypedDocumentString<ErrorFieldsFragment, unknown>;
export const VideoFieldsFragmentDoc = new TypedDocumentString(`
    fragment VideoFields on Video {
  id
  filename
  format
  contentType
  sizeBytes
  sha256
  title
  recordedAt
  createdAt
  metadata {
    durationSeconds
    width
    height
    videoCodec
    audioCodec
    frameRate
    bitRate
  }
}
    `, {"fragmentName":"VideoFields"}) as unknown as TypedDocumentString<VideoFieldsFragment, unknown>;
export const JobFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobFields on Job {
  id
  status
  progress
  stage
  attempt
  maxAttempts
  timeoutSeconds
  createdAt
  startedAt
  finishedAt
  webhookUrl
  video {
    id
  }
  options {
    model
    outputFormat
  }
  stages {
    name
    status
    attempts
    progress
  }
  error {
    code
    message
    detail
    stage
    retryable
  }
}
    `, {"fragmentName":"JobFields"}) as unknown as TypedDocumentString<JobFieldsFragment, unknown>;
export const JobEventFieldsFragmentDoc = new TypedDocumentString(`
    fragment JobEventFields on JobEvent {
  __typename
  jobId
  sequence
  type
  status
  progress
  stage
  at
  error {
    code
    message
    detail
    stage
    retryable
  }
  details {
    __typename
    ... on JobQueuedDetails {
      costCredits
      stages
      retryOf
      keptStages
    }
    ... on JobStartedDetails {
      attempt
      maxAttempts
      recovered
    }
    ... on StageStartedDetails {
      attempt
    }
    ... on StageProgressDetails {
      stageProgress
    }
    ... on StageCompletedDetails {
      stageStatus
      skipReason
    }
    ... on RetryScheduledDetails {
      attempt
      retriesLeft
      reason
      backoff
    }
    ... on JobEndedDetails {
      retriesExhausted
      cancelledBy
      wasStatus
    }
  }
}
    `, {"fragmentName":"JobEventFields"}) as unknown as TypedDocumentString<JobEventFieldsFragment, unknown>;
export const CreateVideoFromUploadDocument = new TypedDocumentString(`
    mutation CreateVideoFromUpload($input: CreateVideoFromUploadInput!) {
  createVideoFromUpload(input: $input) {
    __typename
    ... on UploadVideoSuccess {
      video {
        ...VideoFields
      }
    }
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment VideoFields on Video {
  id
  filename
  format
  contentType
  sizeBytes
  sha256
  title
  recordedAt
  createdAt
  metadata {
    durationSeconds
    width
    height
    videoCodec
    audioCodec
    frameRate
    bitRate
  }
}`) as unknown as TypedDocumentString<CreateVideoFromUploadMutation, CreateVideoFromUploadMutationVariables>;
export const SubmitJobDocument = new TypedDocumentString(`
    mutation SubmitJob($input: SubmitJobInput!) {
  submitJob(input: $input) {
    __typename
    ... on SubmitJobSuccess {
      job {
        ...JobFields
      }
    }
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment JobFields on Job {
  id
  status
  progress
  stage
  attempt
  maxAttempts
  timeoutSeconds
  createdAt
  startedAt
  finishedAt
  webhookUrl
  video {
    id
  }
  options {
    model
    outputFormat
  }
  stages {
    name
    status
    attempts
    progress
  }
  error {
    code
    message
    detail
    stage
    retryable
  }
}`) as unknown as TypedDocumentString<SubmitJobMutation, SubmitJobMutationVariables>;
export const JobDocument = new TypedDocumentString(`
    query Job($id: ID!) {
  job(id: $id) {
    __typename
    ...JobFields
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment JobFields on Job {
  id
  status
  progress
  stage
  attempt
  maxAttempts
  timeoutSeconds
  createdAt
  startedAt
  finishedAt
  webhookUrl
  video {
    id
  }
  options {
    model
    outputFormat
  }
  stages {
    name
    status
    attempts
    progress
  }
  error {
    code
    message
    detail
    stage
    retryable
  }
}`) as unknown as TypedDocumentString<JobQuery, JobQueryVariables>;
export const VideoDocument = new TypedDocumentString(`
    query Video($id: ID!) {
  video(id: $id) {
    __typename
    ...VideoFields
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment VideoFields on Video {
  id
  filename
  format
  contentType
  sizeBytes
  sha256
  title
  recordedAt
  createdAt
  metadata {
    durationSeconds
    width
    height
    videoCodec
    audioCodec
    frameRate
    bitRate
  }
}`) as unknown as TypedDocumentString<VideoQuery, VideoQueryVariables>;
export const CancelJobDocument = new TypedDocumentString(`
    mutation CancelJob($id: ID!) {
  cancelJob(id: $id) {
    __typename
    ... on CancelJobSuccess {
      job {
        ...JobFields
      }
    }
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment JobFields on Job {
  id
  status
  progress
  stage
  attempt
  maxAttempts
  timeoutSeconds
  createdAt
  startedAt
  finishedAt
  webhookUrl
  video {
    id
  }
  options {
    model
    outputFormat
  }
  stages {
    name
    status
    attempts
    progress
  }
  error {
    code
    message
    detail
    stage
    retryable
  }
}`) as unknown as TypedDocumentString<CancelJobMutation, CancelJobMutationVariables>;
export const RetryJobDocument = new TypedDocumentString(`
    mutation RetryJob($id: ID!, $timeoutSeconds: Int) {
  retryJob(id: $id, timeoutSeconds: $timeoutSeconds) {
    __typename
    ... on RetryJobSuccess {
      job {
        ...JobFields
      }
    }
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment JobFields on Job {
  id
  status
  progress
  stage
  attempt
  maxAttempts
  timeoutSeconds
  createdAt
  startedAt
  finishedAt
  webhookUrl
  video {
    id
  }
  options {
    model
    outputFormat
  }
  stages {
    name
    status
    attempts
    progress
  }
  error {
    code
    message
    detail
    stage
    retryable
  }
}`) as unknown as TypedDocumentString<RetryJobMutation, RetryJobMutationVariables>;
export const JobOutputDocument = new TypedDocumentString(`
    query JobOutput($jobId: ID!) {
  jobOutput(jobId: $jobId) {
    __typename
    ... on JobOutput {
      jobId
      files {
        kind
        stage
        url
        contentType
        sizeBytes
      }
      probe {
        durationSeconds
        width
        height
        videoCodec
        audioCodec
        frameRate
        bitRate
      }
      transcode {
        file
        format
        codec
        audioCodec
        width
        height
        durationSeconds
        sizeBytes
        hasAlpha
      }
      thumbnails {
        width
        poster {
          file
          time
        }
        thumbnails {
          file
          time
        }
      }
      audio {
        durationSeconds
        loudness {
          integratedLufs
          loudnessRangeLu
          truePeakDbfs
        }
        silences {
          start
          end
        }
      }
      scenes {
        threshold
        scenes {
          index
          start
          end
          hash
        }
      }
      results
    }
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}`) as unknown as TypedDocumentString<JobOutputQuery, JobOutputQueryVariables>;
export const JobUpdatedDocument = new TypedDocumentString(`
    subscription JobUpdated($jobId: ID!, $afterSequence: Int) {
  jobUpdated(jobId: $jobId, afterSequence: $afterSequence) {
    __typename
    ...JobEventFields
    ...ErrorFields
  }
}
    fragment ErrorFields on Error {
  __typename
  code
  message
  detail
  retryable
  ... on InvalidInputError {
    fieldErrors {
      path
      message
    }
  }
  ... on InsufficientCreditsError {
    required
    available
  }
  ... on JobAlreadyProcessingError {
    jobId
    videoId
  }
  ... on JobNotCompleteError {
    status
  }
  ... on UploadIncompleteError {
    offset
    length
  }
  ... on FileTooLargeError {
    maxBytes
  }
  ... on UnsupportedFormatError {
    supportedFormats
  }
  ... on RateLimitedError {
    retryAfterSeconds
  }
}
fragment JobEventFields on JobEvent {
  __typename
  jobId
  sequence
  type
  status
  progress
  stage
  at
  error {
    code
    message
    detail
    stage
    retryable
  }
  details {
    __typename
    ... on JobQueuedDetails {
      costCredits
      stages
      retryOf
      keptStages
    }
    ... on JobStartedDetails {
      attempt
      maxAttempts
      recovered
    }
    ... on StageStartedDetails {
      attempt
    }
    ... on StageProgressDetails {
      stageProgress
    }
    ... on StageCompletedDetails {
      stageStatus
      skipReason
    }
    ... on RetryScheduledDetails {
      attempt
      retriesLeft
      reason
      backoff
    }
    ... on JobEndedDetails {
      retriesExhausted
      cancelledBy
      wasStatus
    }
  }
}`) as unknown as TypedDocumentString<JobUpdatedSubscription, JobUpdatedSubscriptionVariables>;