// follow(jobId): a job's events as an async iterator, over graphql-ws. It starts with the stored events
// (after `afterSequence`), then live ones, and ends after the terminal event. A dropped connection is
// reopened with backoff and the subscription resumed after the last sequence seen, so the caller sees
// every event once, in order, without gaps. A refused key (close 4403) or a limit (4429) is not retried:
// it fails at once with the server's reason.
import { type Client, createClient } from 'graphql-ws';
import { type ErrorMember, unreachableError, VidqError } from './errors.js';
import type { ErrorCode, JobEventFieldsFragment, JobUpdatedSubscription } from './generated/graphql.js';
import type { Connection } from './http.js';
import { JobUpdatedDocument } from './operations.js';

export type JobEvent = JobEventFieldsFragment;

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
    connectionParams: { authorization: `Bearer ${conn.apiKey}` },
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
  return new VidqError({ code: code ?? 'SERVICE_UNAVAILABLE', message: reason, detail: `WebSocket closed with ${event.code}`, retryable: !code });
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
          const first = result.errors[0] as { message: string; extensions?: { code?: ErrorCode } };
          throw new VidqError({ code: first.extensions?.code ?? 'INTERNAL_ERROR', message: first.message });
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
      const failure = isCloseEvent(error) ? closeError(error) : unreachableError(conn.baseUrl, socketUrl(conn), error);
      if (!failure.retryable || reconnects >= (opts.maxReconnects ?? 10)) throw failure;
    } finally {
      opts.signal?.removeEventListener('abort', stop);
    }
    if (opts.signal?.aborted) return;
    reconnects += 1;
    await sleep(Math.min(250 * 2 ** (reconnects - 1), 5000), opts.signal);
  }
}
