// One webhook HTTP attempt. Uses node:http/https directly (not fetch) because we need the socket's
// `lookup` hook for the connect-time SSRF check. Never throws: every failure is a SendResult, so
// the delivery loop records it and decides on retries without try/catch around network code.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { parseRetryAfter } from './backoff';
import { createGuardedLookup, literalHostRefusal, type Resolver } from './url-guard';

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  retryAfterSeconds: number | null;
  error: string | null;
  responseBodySnippet: string | null;
  gone: boolean;
}

export interface SendOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Covers connect, response headers and the (truncated) response body together. */
  timeoutMs?: number;
  allowPrivate: boolean;
  /** DNS override for the connect-time lookup (tests, custom resolvers); defaults to the system's. */
  resolve?: Resolver;
  /**
   * Reuse connections (keep-alive) across deliveries. Pools are kept per scheme and per guard mode,
   * never shared between guarded and allowPrivate requests, and only with the system resolver; a
   * pooled socket was vetted when it connected. Off by default: one connection per request.
   */
  keepAlive?: boolean;
}

// Keep-alive pools, one per scheme and guard mode (see SendOptions.keepAlive).
const pools = new Map<string, http.Agent>();
function pooledAgent(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate ? 'private' : 'guarded'}`;
  let agent = pools.get(key);
  if (!agent) {
    const options = { keepAlive: true, maxFreeSockets: 16, scheduling: 'lifo' as const, timeout: 30_000 };
    agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    pools.set(key, agent);
  }
  return agent;
}

/** Enough of a response body to show in a delivery log; we never need more. */
const MAX_RESPONSE_BYTES = 4096;

function statusError(status: number, location: string | undefined): string | null {
  if (status >= 200 && status < 300) return null;
  if (status === 410) return 'HTTP 410 Gone: the receiver asked for this endpoint to be disabled';
  if (status >= 300 && status < 400) {
    // Following redirects would let a public URL bounce us to an internal one.
    return `HTTP ${status} redirect${location ? ` to ${location}` : ''} not followed; register the final URL instead`;
  }
  return `HTTP ${status}`;
}

export async function sendWebhook(options: SendOptions): Promise<SendResult> {
  const pooled = Boolean(options.keepAlive && !options.resolve);
  const first = await sendOnce(options, pooled);
  // A pooled connection the receiver had just closed fails before the request reached it: send again
  // on a fresh connection rather than count a failed attempt.
  return first.reusedSocketReset ? (await sendOnce(options, false)).result : first.result;
}

function sendOnce(options: SendOptions, pooled: boolean): Promise<{ result: SendResult; reusedSocketReset?: boolean }> {
  return send(options, pooled).then(
    (result) => ({ result }),
    (reset: { result: SendResult }) => ({ result: reset.result, reusedSocketReset: true }),
  );
}

function send(options: SendOptions, pooled: boolean): Promise<SendResult> {
  const { body, headers, timeoutMs = 10_000, allowPrivate } = options;
  const started = performance.now();
  const fail = (error: string): SendResult => ({
    ok: false,
    statusCode: null,
    latencyMs: Math.round(performance.now() - started),
    retryAfterSeconds: null,
    error,
    responseBodySnippet: null,
    gone: false,
  });

  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return Promise.resolve(fail(`invalid URL ${JSON.stringify(options.url)}`));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve(fail(`unsupported URL scheme ${url.protocol}`));
  }
  const refusal = allowPrivate ? null : literalHostRefusal(url);
  if (refusal) return Promise.resolve(fail(refusal));

  const request = url.protocol === 'https:' ? https.request : http.request;
  const lookup = allowPrivate && !options.resolve ? undefined : createGuardedLookup({ resolve: options.resolve, allowPrivate });

  return new Promise<SendResult>((resolvePromise, rejectAsReset) => {
    let settled = false;
    let req: http.ClientRequest | undefined;
    const settle = (result: SendResult, keepSocket = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(result);
      // Frees the socket when we truncated, timed out or failed; a fully read response on a pooled
      // connection leaves it to the pool.
      if (!keepSocket) req?.destroy();
    };
    const timer = setTimeout(() => settle(fail(`timeout after ${timeoutMs} ms`)), timeoutMs);

    try {
      req = request(url, {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'vidq-webhooks/1',
        },
        lookup,
        // Pooled sockets are keyed by host:port, not by the lookup used: hence one pool per guard
        // mode, and none at all with a custom resolver.
        agent: pooled ? pooledAgent(url.protocol, allowPrivate) : false,
      });
    } catch (err) {
      // e.g. ERR_INVALID_CHAR for a header value containing a newline: a result, not a throw.
      return settle(fail((err as Error).message));
    }

    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled && req?.reusedSocket && err.code === 'ECONNRESET') {
        settled = true;
        clearTimeout(timer);
        return rejectAsReset({ result: fail(err.message) });
      }
      settle(fail(err.message || String(err)));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (complete: boolean) => {
        const error = statusError(status, res.headers.location);
        settle(
          {
            ok: error === null,
            statusCode: status,
            latencyMs: Math.round(performance.now() - started),
            // Only 429 and 503 carry a meaningful "come back later" per the contract.
            retryAfterSeconds: status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : null,
            error,
            responseBodySnippet: size > 0 ? snippet(Buffer.concat(chunks)) : null,
            gone: status === 410,
          },
          complete && pooled,
        );
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_RESPONSE_BYTES) finish(false); // stop reading a huge or endless body
      });
      res.on('end', () => finish(true));
      res.on('error', (err) => settle(fail(`response aborted: ${err.message}`)));
    });
    req.end(body);
  });
}

/**
 * The start of a reply, as text that PostgreSQL can store: a NUL (gzip, UTF-16 and binary replies are
 * full of them) would make the statement recording the attempt fail, and the delivery be sent again.
 */
function snippet(body: Buffer): string {
  return body.subarray(0, MAX_RESPONSE_BYTES).toString('utf8').replaceAll('\0', '\uFFFD');
}
