// Every failure the SDK reports is a VidqError with vidq's stable error code (the same codes as the
// GraphQL error union members and `errorCatalog`), so callers branch on `code`, never on messages.
import type { ErrorCode, JobStatus } from './generated/graphql.js';

/**
 * vidq's error catalogue (the server's `errorCatalog`): each code's generic message, safe to show to
 * end users, and whether trying again unchanged can succeed. Errors that do not come from a GraphQL
 * error member (tus refusals, request-level errors) take their `message` and `retryable` from here.
 */
export const ERROR_MESSAGES: Record<ErrorCode, { message: string; retryable: boolean }> = {
  INVALID_INPUT: { message: 'The request is invalid.', retryable: false },
  UNAUTHENTICATED: { message: 'An API key is required.', retryable: false },
  INVALID_API_KEY: { message: 'The API key is invalid, revoked or disabled.', retryable: false },
  INSUFFICIENT_CREDITS: { message: 'Account credits below required amount.', retryable: false },
  FORBIDDEN: { message: 'You do not have permission to perform this action.', retryable: false },
  VIDEO_NOT_FOUND: { message: 'The specified video could not be found.', retryable: false },
  UPLOAD_NOT_FOUND: { message: 'The specified upload could not be found.', retryable: false },
  UPLOAD_INCOMPLETE: { message: 'The upload has not received all of its bytes yet.', retryable: true },
  JOB_NOT_FOUND: { message: 'The specified job could not be found.', retryable: false },
  JOB_ALREADY_PROCESSING: { message: 'A job for this video is already in progress.', retryable: false },
  JOB_NOT_COMPLETE: { message: 'The job has not finished processing.', retryable: true },
  JOB_TIMEOUT: { message: 'The job exceeded the maximum processing time and was terminated.', retryable: false },
  JOB_FAILED: { message: 'The job failed.', retryable: false },
  FILE_TOO_LARGE: { message: 'Uploaded file exceeds the maximum allowed size.', retryable: false },
  UNSUPPORTED_FORMAT: { message: 'The uploaded file format is not supported.', retryable: false },
  VIDEO_CORRUPT: { message: 'The uploaded video could not be processed.', retryable: false },
  RATE_LIMITED: { message: 'Too many requests.', retryable: true },
  WEBHOOK_DELIVERY_FAILED: { message: 'The webhook could not be delivered.', retryable: true },
  SERVICE_UNAVAILABLE: { message: 'The service is temporarily unavailable.', retryable: true },
  INTERNAL_ERROR: { message: 'An unexpected error occurred.', retryable: false },
};

export interface FieldError {
  path: string[];
  message: string;
}

/** The fields some error types add to `code`, `message`, `detail` and `retryable` (each set only by its types). */
export interface VidqErrorFields {
  /** INSUFFICIENT_CREDITS: credits the job costs. */
  required?: number;
  /** INSUFFICIENT_CREDITS: credits the account has. */
  available?: number;
  /** JOB_ALREADY_PROCESSING: the job already running for the video. */
  jobId?: string;
  /** JOB_ALREADY_PROCESSING: the video. */
  videoId?: string;
  /** JOB_NOT_COMPLETE: the job's current status. */
  status?: JobStatus;
  /** UPLOAD_INCOMPLETE: bytes received so far. */
  offset?: number;
  /** UPLOAD_INCOMPLETE: bytes declared (null when the upload's length was deferred). */
  length?: number | null;
  /** FILE_TOO_LARGE: the largest accepted upload, in bytes. */
  maxBytes?: number;
  /** RATE_LIMITED: seconds to wait before trying again (Retry-After). */
  retryAfterSeconds?: number;
  /** UNSUPPORTED_FORMAT (GraphQL): the accepted formats. */
  supportedFormats?: string[];
}

const EXTRA_FIELDS = [
  'required',
  'available',
  'jobId',
  'videoId',
  'status',
  'offset',
  'length',
  'maxBytes',
  'retryAfterSeconds',
  'supportedFormats',
] as const satisfies ReadonlyArray<keyof VidqErrorFields>;

/** An error union member as the SDK's operations select it (`... on Error`). */
export interface ErrorMember extends VidqErrorFields {
  __typename: string;
  code: ErrorCode;
  message: string;
  detail: string;
  retryable: boolean;
  fieldErrors?: FieldError[];
}

export interface VidqErrorOptions extends VidqErrorFields {
  code: ErrorCode;
  message: string;
  detail?: string;
  retryable?: boolean;
  typename?: string | null;
  fieldErrors?: FieldError[];
  /** The underlying error (a fetch failure, tus-js-client's error), for debugging. */
  cause?: unknown;
}

export class VidqError extends Error implements VidqErrorFields {
  override readonly name = 'VidqError';
  readonly code: ErrorCode;
  /** Technical detail: what exactly went wrong. `message` is safe to show to end users. */
  readonly detail: string;
  /** Whether trying again unchanged can succeed (for RATE_LIMITED, after `retryAfterSeconds`). */
  readonly retryable: boolean;
  /** The GraphQL type of the error member (`VideoNotFoundError`…), when the error came from one. */
  readonly typename: string | null;
  /** For INVALID_INPUT: which input field is wrong, as a path from the argument (`["input", "videoId"]`). */
  readonly fieldErrors: FieldError[];
  declare readonly required?: number;
  declare readonly available?: number;
  declare readonly jobId?: string;
  declare readonly videoId?: string;
  declare readonly status?: JobStatus;
  declare readonly offset?: number;
  declare readonly length?: number | null;
  declare readonly maxBytes?: number;
  declare readonly retryAfterSeconds?: number;
  declare readonly supportedFormats?: string[];

  constructor(opts: VidqErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = opts.code;
    this.detail = opts.detail ?? opts.message;
    this.retryable = opts.retryable ?? false;
    this.typename = opts.typename ?? null;
    this.fieldErrors = opts.fieldErrors ?? [];
    // Only the fields the error carries become properties (so `'jobId' in error` means something).
    for (const field of EXTRA_FIELDS) if (opts[field] !== undefined) Object.assign(this, { [field]: opts[field] });
  }

  static fromMember(member: ErrorMember): VidqError {
    return new VidqError({ ...member, typename: member.__typename });
  }
}

/** Seconds from a Retry-After header (seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** A union member is either the wanted type or one of the `Error` implementations. */
export function unwrap<T extends { __typename?: string }, N extends string>(member: T, wanted: N): Extract<T, { __typename?: N }> {
  if (member.__typename === wanted) return member as Extract<T, { __typename?: N }>;
  if (member && typeof (member as unknown as ErrorMember).code === 'string') throw VidqError.fromMember(member as unknown as ErrorMember);
  throw new VidqError({ code: 'INTERNAL_ERROR', message: `Unexpected answer from vidq: ${member?.__typename ?? 'nothing'}` });
}

/** Node's and undici's codes for a request that got no answer at all, in words. */
const NO_ANSWER: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  TimeoutError: 'no answer in time',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** The innermost cause of a network failure (fetch's `cause`, tus-js-client's `causingError`). */
function rootCause(error: unknown): { code: string | undefined; text: string } {
  let code: string | undefined;
  let text = String(error);
  const seen = new Set<unknown>();
  for (let current = error; current && typeof current === 'object' && !seen.has(current);) {
    seen.add(current);
    const e = current as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown; error?: unknown; cause?: unknown; causingError?: unknown };
    if (typeof e.code === 'string') code = e.code;
    else if (e.name === 'TimeoutError') code ??= e.name;
    if (typeof e.message === 'string' && e.message) text = e.message.replace(/\.$/, '');
    // Node tries each address of a name (localhost: ::1, then 127.0.0.1) and reports them together.
    else if (Array.isArray(e.errors) && e.errors.length) text = e.errors.map(String).join('; ');
    current = e.cause ?? e.causingError ?? e.error; // fetch, tus-js-client, a WebSocket ErrorEvent
  }
  return { code, text };
}

/**
 * A SERVICE_UNAVAILABLE VidqError for a request that nothing answered (connection refused, DNS failure,
 * timeout): it names the URL tried and the cause, and says what to check.
 */
export function unreachableError(baseUrl: string, triedUrl: string, error: unknown): VidqError {
  const { code, text } = rootCause(error);
  const cause = code && NO_ANSWER[code] ? `${NO_ANSWER[code]} (${text})` : text;
  return new VidqError({
    code: 'SERVICE_UNAVAILABLE',
    message: `Cannot reach vidq at ${triedUrl}: ${cause}. Is vidq running at ${baseUrl}? If it listens elsewhere, set the client's url option to its address.`,
    detail: error instanceof Error ? `${error.message}${error.cause ? `, caused by ${String(error.cause)}` : ''}` : text,
    retryable: true,
  });
}
