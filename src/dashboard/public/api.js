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
  constructor(code, message) {
    super(message);
    this.code = code;
  }
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
    throw new RequestError('SERVICE_UNAVAILABLE', 'vidq did not answer. Check the server and try again.');
  }
  const body = await response.json().catch(() => null);
  const first = body?.errors?.[0];
  if (first) throw new RequestError(first.extensions?.code ?? 'INTERNAL_ERROR', first.message);
  if (!body?.data) throw new RequestError('INTERNAL_ERROR', `vidq answered HTTP ${response.status}`);
  return body.data;
}

/** A union member that implements Error (code + message), or null. */
export const errorOf = (member) => (member && typeof member.code === 'string' && member.__typename?.endsWith('Error') ? member : null);

let socket = null;
let onRevoked = () => {};

/** graphql-ws, sharing one socket; a refused or revoked key (4403) is not retried: the page signs out. */
export function live(handler) {
  onRevoked = handler;
}

function client() {
  if (socket) return socket;
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = graphqlWs.createClient({
    url: url.href,
    connectionParams: () => ({ authorization: `Bearer ${session.key}` }),
    lazy: true,
    retryAttempts: 20,
    shouldRetry: (event) => ![4403, 4429, 4400].includes(event?.code),
    on: {
      closed: (event) => {
        if (event?.code === 4403) {
          closeLive({ alreadyClosed: true });
          onRevoked(event.reason || 'Forbidden');
        }
      },
    },
  });
  return socket;
}

/** Subscribes; returns a function that unsubscribes. */
export function subscribe(query, variables, next, onError = () => {}) {
  return client().subscribe(
    { query, variables },
    { next: (result) => (result.data ? next(result.data) : onError(result.errors)), error: onError, complete: () => {} },
  );
}

/** Closes the live socket (on sign-out). After a 4403 it is closed already: just forget it. */
export function closeLive({ alreadyClosed = false } = {}) {
  if (!alreadyClosed) void socket?.dispose();
  socket = null;
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
        const code = { 401: 'INVALID_API_KEY', 413: 'FILE_TOO_LARGE', 415: 'UNSUPPORTED_FORMAT', 429: 'RATE_LIMITED' }[status] ?? 'SERVICE_UNAVAILABLE';
        reject(new RequestError(code, text || error.message));
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
