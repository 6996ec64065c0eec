// The dashboard's only way to vidq: GraphQL over HTTP, graphql-ws for live events, tus for uploads.
// The key lives in sessionStorage (this tab only) and travels in an Authorization header or the
// WebSocket's connection_init — never in a URL.
const KEY = 'vidq.apiKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

/** A request-level failure (bad key, limit, network): has `code` like the union members. */
export class RequestError extends Error {
  constructor(code, message, { detail, nextStep } = {}) {
    super(message);
    this.code = code;
    if (detail) this.detail = detail;
    if (nextStep) this.nextStep = nextStep;
  }
}

/** The dashboard's own next step when vidq itself did not answer (the catalogue's is about jobs). */
export const UNREACHABLE_NEXT_STEP = 'Check that vidq is running, then try again; the page reconnects on its own.';
const AUTH_CODES = new Set(['UNAUTHENTICATED', 'INVALID_API_KEY']);

let onSignedOut = () => {};
/** Called with the reason when vidq refuses the key (any request, or the socket's 4403): the page signs out. */
export function whenKeyRefused(handler) {
  onSignedOut = handler;
}

// ───────────── the connection's state, for the page's "connection lost — reconnecting…" status ─────────────

const listeners = new Set();
let socketDown = false;
let httpDown = false;
/** `handler({ down, reconnected })`: down while the live socket or the last request failed to reach vidq. */
export function onConnection(handler) {
  listeners.add(handler);
  return () => listeners.delete(handler);
}
function setConnection(socket, http) {
  const wasDown = socketDown || httpDown;
  const httpBack = httpDown && !http;
  if (http && !httpDown) setTimeout(probe, PROBE_MS);
  socketDown = socket;
  httpDown = http;
  const down = socketDown || httpDown;
  if (down !== wasDown) for (const handler of listeners) handler({ down, reconnected: !down });
  if (httpBack) for (const handler of reconnectHandlers) handler();
}
// A request found vidq unreachable: ask it every few seconds whether it is back (any answer will do).
const PROBE_MS = 3000;
async function probe() {
  if (!httpDown) return;
  const answered = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.key}` },
    body: JSON.stringify({ query: '{ __typename }' }),
  }).then(
    () => true,
    () => false,
  );
  if (!httpDown) return;
  if (answered) setConnection(socketDown, false);
  else setTimeout(probe, PROBE_MS);
}
// Views that must catch up after a reconnect (a live feed does not replay what it missed).
const reconnectHandlers = new Set();
export function onReconnect(handler) {
  reconnectHandlers.add(handler);
  return () => reconnectHandlers.delete(handler);
}

export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.key}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    setConnection(socketDown, true);
    throw new RequestError('SERVICE_UNAVAILABLE', 'vidq did not answer.', { nextStep: UNREACHABLE_NEXT_STEP });
  }
  if (httpDown) setConnection(socketDown, false);
  const body = await response.json().catch(() => null);
  const first = body?.errors?.[0];
  const code = first?.extensions?.code ?? (response.status === 401 ? 'INVALID_API_KEY' : null);
  if (AUTH_CODES.has(code)) {
    const error = new RequestError(code, first?.message ?? 'Unauthorized', { detail: first?.extensions?.detail });
    onSignedOut(error);
    throw error;
  }
  if (first) throw new RequestError(first.extensions?.code ?? 'INTERNAL_ERROR', first.message, { detail: first.extensions?.detail });
  if (!body?.data) {
    if (response.status >= 502) throw new RequestError('SERVICE_UNAVAILABLE', `vidq answered HTTP ${response.status}.`, { nextStep: UNREACHABLE_NEXT_STEP });
    throw new RequestError('INTERNAL_ERROR', `vidq answered HTTP ${response.status}`);
  }
  return body.data;
}

/** A union member that implements Error (code + message), or null. */
export const errorOf = (member) => (member && typeof member.code === 'string' && member.__typename?.endsWith('Error') ? member : null);

let socket = null;
let active = 0; // subscriptions open: without one, a closed socket is not a lost connection

/** Reconnects after 0.5, 1, 2, then every 3 s (plus a little jitter): a restarted vidq is found quickly. */
const retryWait = (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(3000, 500 * 2 ** retries) + Math.random() * 250));

/** graphql-ws, sharing one socket; a refused or revoked key (4403) is not retried: the page signs out. */
function client() {
  if (socket) return socket;
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const own = graphqlWs.createClient({
    url: url.href,
    connectionParams: () => ({ authorization: `Bearer ${session.key}` }),
    lazy: true,
    retryAttempts: Infinity,
    retryWait,
    shouldRetry: (event) => ![4403, 4429, 4400].includes(event?.code),
    on: {
      connected: () => {
        if (socket !== own) return;
        const wasDown = socketDown;
        setConnection(false, httpDown);
        if (wasDown) for (const handler of reconnectHandlers) handler();
      },
      closed: (event) => {
        if (socket !== own) return;
        if (event?.code === 4403) {
          closeLive({ alreadyClosed: true });
          onSignedOut(new RequestError('INVALID_API_KEY', `Your key was revoked: ${event.reason || 'Forbidden'}`));
        } else if (event?.code !== 1000 && active > 0) setConnection(true, httpDown);
      },
    },
  });
  socket = own;
  return socket;
}

/**
 * Subscribes; returns a function that unsubscribes. `variables` is sent again, as it is then, when the
 * socket reconnects (so a view may move `afterSequence` on). `onComplete` runs when the server ends it.
 */
export function subscribe(query, variables, next, onError = () => {}, onComplete = () => {}) {
  active += 1;
  let open = true;
  const done = () => {
    if (!open) return;
    open = false;
    active -= 1;
    if (active === 0 && socketDown) setConnection(false, httpDown); // nothing live left to lose
  };
  const dispose = client().subscribe(
    { query, variables },
    {
      next: (result) => (result.data ? next(result.data) : onError(result.errors)),
      error: (error) => {
        done();
        onError(error);
      },
      complete: () => {
        done();
        onComplete();
      },
    },
  );
  return () => {
    done();
    dispose();
  };
}

/** Closes the live socket (on sign-out). After a 4403 it is closed already: just forget it. */
export function closeLive({ alreadyClosed = false } = {}) {
  if (!alreadyClosed) void socket?.dispose();
  socket = null;
  setConnection(false, false);
}

/** A resumable upload (tus) with progress, then the video is made from it. */
export function upload(file, { onProgress }) {
  return new Promise((resolve, reject) => {
    const transfer = new tus.Upload(file, {
      endpoint: '/uploads',
      headers: { authorization: `Bearer ${session.key}` },
      metadata: { filename: file.name },
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => onProgress(sent, total),
      onError: (error) => {
        const status = error.originalResponse?.getStatus?.();
        const text = error.originalResponse?.getBody?.()?.trim();
        if (!status) {
          // No answer at all (tus says "failed to resume upload, caused by [object ProgressEvent]").
          return reject(
            new RequestError('SERVICE_UNAVAILABLE', 'The upload paused: vidq did not answer.', {
              nextStep: 'Click Upload again (with the same file) to resume it where it stopped, once vidq answers.',
            }),
          );
        }
        const code = { 401: 'INVALID_API_KEY', 413: 'FILE_TOO_LARGE', 415: 'UNSUPPORTED_FORMAT', 429: 'RATE_LIMITED' }[status] ?? 'SERVICE_UNAVAILABLE';
        const refused = new RequestError(code, text || error.message);
        if (status === 401) onSignedOut(refused);
        reject(refused);
      },
      onSuccess: () => resolve(transfer.url.split('/').pop()),
    });
    // A dropped connection, or a reload mid-upload: resume where the server is.
    transfer.findPreviousUploads().then((previous) => {
      if (previous[0]) transfer.resumeFromPreviousUpload(previous[0]);
      transfer.start();
    }, reject);
  });
}
