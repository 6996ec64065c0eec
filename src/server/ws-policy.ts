// The WebSocket's rules in one place: its close codes (graphql-ws's CloseCode wherever it has one), its
// size and time limits, and the per-socket operation limit both paths (graphql-ws's and the
// subscription fast path) apply.
import { GraphQLError } from 'graphql';
import { CloseCode } from 'graphql-ws';

/** A missing, unknown or revoked key (graphql-ws's "Forbidden"). */
export const WS_CLOSE_FORBIDDEN = CloseCode.Forbidden; // 4403
/** The close reason for a refused connection_init: what was wrong with the key, and what to send. */
export function forbiddenReason(problem: 'missing' | 'revoked' | 'user disabled' | 'unknown' | 'no longer valid'): string {
  // A close reason is at most 123 bytes.
  if (problem === 'missing') return 'Forbidden: no API key. Send connectionParams { authorization: "Bearer vq_…" }';
  if (problem === 'revoked') return 'Forbidden: this API key was revoked. Create a new one.';
  if (problem === 'user disabled') return 'Forbidden: the user of this API key is disabled.';
  if (problem === 'no longer valid') return 'Forbidden: API key revoked (or its user disabled) while this socket was open.';
  return 'Forbidden: unknown API key (mistyped, or never issued).';
}

/** connection_init did not come within CONNECTION_INIT_TIMEOUT_MS (as graphql-ws does it). */
export const WS_CLOSE_INIT_TIMEOUT = CloseCode.ConnectionInitialisationTimeout; // 4408
/** A subscribe whose id is already in use on the socket (as graphql-ws does it). */
export const WS_CLOSE_DUPLICATE_ID = CloseCode.SubscriberAlreadyExists; // 4409
/**
 * A key already holds WS_MAX_CONNECTIONS_PER_KEY sockets, or the address sent too many wrong keys; the
 * reason says which. It is graphql-ws's number for "too many initialisation requests", kept because
 * graphql-ws clients never retry it: retrying would only be refused again.
 */
export const WS_CLOSE_TOO_MANY_CONNECTIONS = CloseCode.TooManyInitialisationRequests; // 4429
/**
 * "Try Again Later", which graphql-ws clients reconnect after: a socket too slow to take what it is
 * sent, or one that could not be set up because PostgreSQL did not answer.
 */
export const WS_CLOSE_TRY_AGAIN_LATER = 1013;
/** The server is shutting down. */
export const WS_CLOSE_GOING_AWAY = 1001;
export const WS_CLOSE_INTERNAL_ERROR = CloseCode.InternalServerError; // 4500

/** Largest message a client may send (a subscribe message is a query and its variables). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** connection_init must arrive within this long (graphql-ws's own timer is replaced by one sweep). */
export const CONNECTION_INIT_TIMEOUT_MS = 10_000;
/** A socket whose unsent data passes this is too slow to follow: closed, so its client resubscribes. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * The refusal of one more operation on a socket already running `running` of them (not counting the
 * new one), or null when it may start. The socket and its other operations go on either way.
 */
export function operationLimitError(running: number, max: number): GraphQLError | null {
  if (running < max) return null;
  return new GraphQLError(`Too many operations on this connection: at most ${max} at once. Complete one, or open another connection.`, {
    extensions: { code: 'RATE_LIMITED', limit: max },
  });
}
