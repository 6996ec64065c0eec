// Cluster-wide limits, one mechanism for all of them, shared by every API process through PostgreSQL:
//   - slots per API key (slots.ts): open WebSockets, SSE streams (any streaming response), uploads in
//     progress — each capped across all API processes, freed at once when a process dies (its lease, src/db/process-lease.ts);
//   - failed authentications per client address (auth-failures.ts): 429 with Retry-After past the limit.
// Valid requests pay nothing for the auth limit; a slot costs one statement to take and one to give back.
import type { ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Services } from '../services';
import { AuthFailureLimiter } from './auth-failures';
import { type SlotKind, SlotCounter } from './slots';

export type { SlotKind } from './slots';

/** How often each API process purges ended auth windows and sweeps the slots of dead processes. */
const HOUSEKEEPING_MS = 5 * 60_000;
/** What a client refused a slot is asked to wait: a slot of the same key may free up any moment. */
export const SLOT_RETRY_AFTER_SECONDS = 5;

export interface Limits {
  slots: SlotCounter;
  authFailures: AuthFailureLimiter;
  /**
   * Takes a slot for as long as the response is open (released when it closes, however it ends).
   * False when the key holds its cap (nothing held); true also when the client is already gone.
   */
  holdForResponse(res: ServerResponse, kind: SlotKind, keyId: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startLimits(services: Services): Promise<Limits> {
  const { config, database } = services;
  const log = services.log.child({ component: 'limits' });
  const slots = new SlotCounter(
    database.sql,
    services.lease,
    { ws: config.wsMaxConnectionsPerKey, sse: config.wsMaxConnectionsPerKey, upload: config.uploadMaxConcurrentPerKey },
    log,
  );
  const authFailures = new AuthFailureLimiter(database.sql, config.authMaxFailures, config.authFailureWindowSeconds);
  const housekeeping = setInterval(() => {
    authFailures.purge().catch((err) => log.warn({ err }, 'purging auth failure windows failed'));
    slots.sweep().catch((err) => log.warn({ err }, 'sweeping limit slots failed'));
  }, HOUSEKEEPING_MS);
  housekeeping.unref();

  return {
    slots,
    authFailures,
    async holdForResponse(res, kind, keyId) {
      // The client may have gone while the request was authenticated: 'close' was emitted already and
      // would never come again. Nothing is held for a response that is gone (the request fails anyway).
      if (res.destroyed) return true;
      const state = { held: false, closed: false };
      res.once('close', () => {
        state.closed = true;
        if (state.held) slots.release(kind, keyId);
      });
      if (!(await slots.acquire(kind, keyId))) return false;
      // Gone while we asked (or destroyed, its 'close' still to come): given back at once.
      if (state.closed || res.destroyed) slots.release(kind, keyId);
      else state.held = true;
      return true;
    },
    async close() {
      clearInterval(housekeeping);
      await slots.idle(); // what the closed sockets and streams gave back reaches the database first
    },
  };
}

/** The error of a request refused by a limit: RATE_LIMITED, HTTP 429 with Retry-After. */
export function rateLimitedError(message: string, retryAfterSeconds: number, extensions: Record<string, unknown> = {}) {
  return new GraphQLError(message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      ...extensions,
      http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
    },
  });
}

/** Answers a refused request outside Yoga, in the shape Yoga gives GraphQL errors. */
export function sendRateLimited(res: ServerResponse, message: string, retryAfterSeconds: number, opts: { closeConnection?: boolean } = {}) {
  const text = JSON.stringify({ errors: [{ message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds } }] });
  res.writeHead(429, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'retry-after': String(retryAfterSeconds),
    // A request body left unread (an upload) is not drained: the connection ends with the answer.
    ...(opts.closeConnection ? { connection: 'close' } : {}),
  });
  res.end(text);
}
