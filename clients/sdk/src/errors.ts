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
