// follow(jobId): a job's events as an async iterator, over graphql-ws. It starts with the stored events
// (after `afterSequence`), then live ones, and ends after the terminal event. A dropped connection is
// reopened with backoff and the subscription resumed after the last sequence seen, so the caller sees
// every event once, in order, without gaps. A refused key (close 4403) or a limit (4429) is not retried:
// it fails at once with the server's reason.
import { type Client, createClient } from 'graphql-ws';
import { ERROR_MESSAGES, type ErrorMember, unreachableError, VidqError } from './errors.js';
import type { ErrorCode, JobEventFieldsFragment, JobEventType, JobUpdatedSubscription } from './generated/graphql.js';
import { authHeaders, type Connection } from './http.js';
import { JobUpdatedDocument } from './operations.js';

type Details<N extends string> = Extract<JobEventFieldsFragment['details'], { __typename: N }>;

/** Which details each event type carries (the server resolves `details` by the event's `type`). */
export interface JobEventDetailsByType {
  QUEUED: Details<'JobQueuedDetails'>;
  STARTED: Details<'JobStartedDetails'>;
  STAGE_STARTED: Details<'StageStartedDetails'>;
  PROGRESS: Details<'StageProgressDetails'>;
  STAGE_COMPLETED: Details<'StageCompletedDetails'>;
  RETRY_SCHEDULED: Details<'RetryScheduledDetails'>;
  COMPLETED: Details<'JobEndedDetails'>;
  FAILED: Details<'JobEndedDetails'>;
  TIMED_OUT: Details<'JobEndedDetails'>;
  CANCELLED: Details<'JobEndedDetails'>;
}

/**
 * A job event whose `details` narrow by `type`: after `if (event.type === 'CANCELLED')`,
 * `event.details.cancelledBy` and `wasStatus` are typed (no `__typename` check needed).
 */
export type JobEvent = {
  [T in JobEventType]: Omit<JobEventFieldsFragment, 'type' | 'details'> & {
    type: T;
    details: T extends keyof JobEventDetailsByType ? JobEventDetailsByType[T] : JobEventFieldsFragment['details'];
  };
}[JobEventType];

export interface FollowOptions {
  /** The last sequence already seen (default 0: from the first event). */
  afterSequence?: number;
  /** Reconnections in a row, without an event in between, before giving up. Default 10. */
  maxReconnects?: number;
  signal?: AbortSignal;
}

interface CloseEvent {
  code: number;
  reason: string;
}

const TERMINAL_EVENTS = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);
/** Close codes that trying again cannot fix: the key, a limit, a bad request. */
const FATAL_CLOSE_CODES: Record<number, ErrorCode> = { 4400: 'INVALID_INPUT', 4401: 'UNAUTHENTICATED', 4403: 'INVALID_API_KEY', 4429: 'RATE_LIMITED' };

const isCloseEvent = (value: unknown): value is CloseEvent => typeof (value as CloseEvent)?.code === 'number' && 'reason' in (value as object);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** The WebSocket URL of vidq's GraphQL endpoint (ws:// or wss://). */
function socketUrl(conn: Connection): string {
  const url = new URL('/graphql', conn.baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function createSocket(conn: Connection): Client {
  return createClient({
    url: socketUrl(conn),
    connectionParams: authHeaders(conn),
    lazy: true,
    // follow() reconnects itself, resuming after the last sequence; graphql-ws's own retry would
    // resubscribe with the original variables.
    retryAttempts: 0,
    shouldRetry: () => false,
  });
}

function closeError(event: CloseEvent): VidqError {
  const code = FATAL_CLOSE_CODES[event.code];
  const reason = event.reason || `connection closed (${event.code})`;
  if (code === 'INVALID_API_KEY' && /no API key/i.test(reason)) return new VidqError({ code: 'UNAUTHENTICATED', message: reason });
  const final = code ?? 'SERVICE_UNAVAILABLE';
  return new VidqError({ code: final, message: reason, detail: `WebSocket closed with ${event.code}`, retryable: ERROR_MESSAGES[final].retryable });
}

export async function* followJob(conn: Connection, socket: Client, jobId: string, opts: FollowOptions = {}): AsyncGenerator<JobEvent, void, undefined> {
  let last = opts.afterSequence ?? 0;
  let reconnects = 0;
  for (;;) {
    const subscription = socket.iterate<JobUpdatedSubscription>({ query: JobUpdatedDocument.toString(), variables: { jobId, afterSequence: last } });
    const stop = () => void subscription.return?.();
    opts.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const result of subscription) {
        if (result.errors?.length) {
          const first = result.errors[0] as {
            message: string;
            extensions?: { code?: ErrorCode; detail?: string; retryable?: boolean; retryAfterSeconds?: number };
          };
          const code = first.extensions?.code ?? 'INTERNAL_ERROR';
          const retryAfterSeconds = first.extensions?.retryAfterSeconds;
          throw new VidqError({
            code,
            message: first.message,
            detail: first.extensions?.detail,
            retryable: first.extensions?.retryable ?? ERROR_MESSAGES[code]?.retryable ?? false,
            ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
          });
        }
        const member = result.data!.jobUpdated;
        if (member.__typename !== 'JobEvent') throw VidqError.fromMember(member as ErrorMember);
        const event = member as JobEvent;
        if (event.sequence <= last) continue; // already seen before a reconnect
        last = event.sequence;
        reconnects = 0;
        yield event;
        if (TERMINAL_EVENTS.has(event.type)) return;
      }
      if (opts.signal?.aborted) return;
      // The server ended the stream without a terminal event (it is shutting down): resume.
    } catch (error) {
      if (error instanceof VidqError) throw error;
      // A refused key, a limit or a bad request (FATAL_CLOSE_CODES) is not reconnected: it fails at once.
      const fatal = isCloseEvent(error) && error.code in FATAL_CLOSE_CODES;
      const failure = isCloseEvent(error) ? closeError(error) : unreachableError(conn.baseUrl, socketUrl(conn), error);
      if (fatal || reconnects >= (opts.maxReconnects ?? 10)) throw failure;
    } finally {
      opts.signal?.removeEventListener('abort', stop);
    }
    if (opts.signal?.aborted) return;
    reconnects += 1;
    await sleep(Math.min(250 * 2 ** (reconnects - 1), 5000), opts.signal);
  }
}
