// The one catalog of error codes: HTTP equivalent, whether retrying can help, the message a user sees
// and what to do next. Pure data, so workers, webhooks and the API all speak the same codes.

export const ERROR_CODES = [
  'INVALID_INPUT',
  'UNAUTHENTICATED',
  'INVALID_API_KEY',
  'INSUFFICIENT_CREDITS',
  'FORBIDDEN',
  'VIDEO_NOT_FOUND',
  'JOB_NOT_FOUND',
  'JOB_ALREADY_PROCESSING',
  'JOB_NOT_COMPLETE',
  'JOB_TIMEOUT',
  'JOB_FAILED',
  'FILE_TOO_LARGE',
  'UNSUPPORTED_FORMAT',
  'VIDEO_CORRUPT',
  'UPLOAD_NOT_FOUND',
  'UPLOAD_INCOMPLETE',
  'RATE_LIMITED',
  'WEBHOOK_DELIVERY_FAILED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorCodeInfo {
  code: ErrorCode;
  httpStatus: number;
  retryable: boolean;
  message: string;
  description: string;
}

export const ERROR_CATALOG: Record<ErrorCode, ErrorCodeInfo> = {
  INVALID_INPUT: {
    code: 'INVALID_INPUT',
    httpStatus: 400,
    retryable: false,
    message: 'The request is invalid.',
    description: 'A field is missing or malformed; fieldErrors names each field and why. Fix the request and send it again.',
  },
  UNAUTHENTICATED: {
    code: 'UNAUTHENTICATED',
    httpStatus: 401,
    retryable: false,
    message: 'An API key is required.',
    description: 'Send the key as "Authorization: Bearer vq_…" (HTTP) or in connectionParams.authorization (WebSocket).',
  },
  INVALID_API_KEY: {
    code: 'INVALID_API_KEY',
    httpStatus: 401,
    retryable: false,
    message: 'The API key is invalid, revoked or disabled.',
    description: 'Wrong key or key disabled: create a new key and check which key your environment uses.',
  },
  INSUFFICIENT_CREDITS: {
    code: 'INSUFFICIENT_CREDITS',
    httpStatus: 402,
    retryable: false,
    message: 'Account credits below required amount.',
    description: 'The job costs more credits than the account has available. Top up credits before retrying, or pick a cheaper model.',
  },
  FORBIDDEN: {
    code: 'FORBIDDEN',
    httpStatus: 403,
    retryable: false,
    message: 'You do not have permission to perform this action.',
    description: 'Only an admin may act on behalf of another user or use admin-only operations.',
  },
  VIDEO_NOT_FOUND: {
    code: 'VIDEO_NOT_FOUND',
    httpStatus: 404,
    retryable: false,
    message: 'The specified video could not be found.',
    description: 'No video with that id exists for this account. Check the id; the video may have been deleted.',
  },
  UPLOAD_NOT_FOUND: {
    code: 'UPLOAD_NOT_FOUND',
    httpStatus: 404,
    retryable: false,
    message: 'The specified upload could not be found.',
    description:
      'No resumable upload with that id exists for this API key’s user: unknown, expired (UPLOAD_EXPIRY_HOURS), already made into a video, or another user’s. Upload the file again.',
  },
  UPLOAD_INCOMPLETE: {
    code: 'UPLOAD_INCOMPLETE',
    httpStatus: 409,
    retryable: true,
    message: 'The upload has not received all of its bytes yet.',
    description: 'Finish the upload (resume it from its URL with your tus client), then call createVideoFromUpload again.',
  },
  JOB_NOT_FOUND: {
    code: 'JOB_NOT_FOUND',
    httpStatus: 404,
    retryable: false,
    message: 'The specified job could not be found.',
    description: 'No job with that id exists for this account. Finished jobs are removed after the retention period.',
  },
  JOB_ALREADY_PROCESSING: {
    code: 'JOB_ALREADY_PROCESSING',
    httpStatus: 409,
    retryable: false,
    message: 'A job for this video is already in progress.',
    description: 'Wait for the existing job to complete or fail (follow it with the jobUpdated subscription) before submitting another.',
  },
  JOB_NOT_COMPLETE: {
    code: 'JOB_NOT_COMPLETE',
    httpStatus: 409,
    retryable: true,
    message: 'The job has not finished processing.',
    description: 'Fetch results once the job status is COMPLETED: subscribe to jobUpdated or poll every 5–15 seconds.',
  },
  JOB_TIMEOUT: {
    code: 'JOB_TIMEOUT',
    httpStatus: 504,
    retryable: false,
    message: 'The job exceeded the maximum processing time and was terminated.',
    description:
      'The job ran longer than its time limit and was stopped; it is not retried automatically. Call retryJob with a longer timeoutSeconds (finished stages are kept; at most PROCESSING_TIMEOUT_SECONDS), or trim the video.',
  },
  JOB_FAILED: {
    code: 'JOB_FAILED',
    httpStatus: 500,
    retryable: false,
    message: 'The job failed.',
    description: 'The job stopped with an error; JobFailedError.error carries the root cause, the stage and whether retryJob can help.',
  },
  FILE_TOO_LARGE: {
    code: 'FILE_TOO_LARGE',
    httpStatus: 413,
    retryable: false,
    message: 'Uploaded file exceeds the maximum allowed size.',
    description: 'Trim or compress the video before uploading, or ask your administrator to raise MAX_FILE_SIZE_MB.',
  },
  UNSUPPORTED_FORMAT: {
    code: 'UNSUPPORTED_FORMAT',
    httpStatus: 415,
    retryable: false,
    message: 'The uploaded file format is not supported.',
    description: 'Accepted: mp4, mov, avi, mkv, webm. Convert first, e.g. ffmpeg -i input.flv -c:v libx264 -c:a aac output.mp4',
  },
  VIDEO_CORRUPT: {
    code: 'VIDEO_CORRUPT',
    httpStatus: 422,
    retryable: false,
    message: 'The uploaded video could not be processed.',
    description: 'The decoder could not read the file (truncated, damaged or without a video stream). Re-export the video and upload it again.',
  },
  RATE_LIMITED: {
    code: 'RATE_LIMITED',
    httpStatus: 429,
    retryable: true,
    message: 'Too many requests.',
    description: 'Wait retryAfterSeconds before sending again.',
  },
  WEBHOOK_DELIVERY_FAILED: {
    code: 'WEBHOOK_DELIVERY_FAILED',
    httpStatus: 502,
    retryable: true,
    message: 'The webhook could not be delivered.',
    description:
      'The endpoint did not answer 2xx within 10 seconds after every retry. The job itself is unaffected: query it directly, fix the endpoint and call redeliverWebhook.',
  },
  SERVICE_UNAVAILABLE: {
    code: 'SERVICE_UNAVAILABLE',
    httpStatus: 503,
    retryable: true,
    message: 'The service is temporarily unavailable.',
    description: 'A transient failure (lost connection, crashed worker, full disk). Jobs are retried automatically; otherwise try again later.',
  },
  INTERNAL_ERROR: {
    code: 'INTERNAL_ERROR',
    httpStatus: 500,
    retryable: false,
    message: 'An unexpected error occurred.',
    description: 'Something unexpected failed. Quote the request id or job id to your administrator.',
  },
};
