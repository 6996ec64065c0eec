// Every failure the SDK reports is a VidqError with vidq's stable error code (the same codes as the
// GraphQL error union members and `errorCatalog`), so callers branch on `code`, never on messages.
import type { ErrorCode } from './generated/graphql.js';

export interface FieldError {
  path: string[];
  message: string;
}

/** An error union member as the SDK's operations select it (`... on Error`). */
export interface ErrorMember {
  __typename: string;
  code: ErrorCode;
  message: string;
  detail: string;
  retryable: boolean;
  fieldErrors?: FieldError[];
}

export class VidqError extends Error {
  override readonly name = 'VidqError';
  readonly code: ErrorCode;
  /** Technical detail: what exactly went wrong. `message` is safe to show to end users. */
  readonly detail: string;
  /** Whether trying again unchanged can succeed. */
  readonly retryable: boolean;
  /** The GraphQL type of the error member (`VideoNotFoundError`…), when the error came from one. */
  readonly typename: string | null;
  /** For INVALID_INPUT: which input field is wrong, as a path from the argument (`["input", "videoId"]`). */
  readonly fieldErrors: FieldError[];

  constructor(opts: { code: ErrorCode; message: string; detail?: string; retryable?: boolean; typename?: string | null; fieldErrors?: FieldError[] }) {
    super(opts.message);
    this.code = opts.code;
    this.detail = opts.detail ?? opts.message;
    this.retryable = opts.retryable ?? false;
    this.typename = opts.typename ?? null;
    this.fieldErrors = opts.fieldErrors ?? [];
  }

  static fromMember(member: ErrorMember): VidqError {
    return new VidqError({ ...member, typename: member.__typename });
  }
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
