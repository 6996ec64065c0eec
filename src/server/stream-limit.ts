// Streaming responses over HTTP (a subscription: SSE whatever the Accept header says — Yoga streams a
// subscription to `accept: */*` or no Accept at all too) are long-lived connections like WebSockets: a
// key may hold at most WS_MAX_CONNECTIONS_PER_KEY of them across all API processes, counted apart
// from its sockets. They are counted where Yoga starts a subscription, not by the Accept header, so
// every streaming response is; one more is answered 429 RATE_LIMITED (JSON, Retry-After).
// WebSocket operations have no response here: their socket is what is counted (websocket.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context';
import { type Limits, rateLimitedError, SLOT_RETRY_AFTER_SECONDS } from '../limits/index';

export function useStreamLimit(limits: Limits): Plugin {
  /** Requests refused here: their answer is JSON with the 429, whatever media type they accept. */
  const refused = new WeakSet<IncomingMessage>();
  return {
    async onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as unknown as GraphQLContext & { req?: IncomingMessage; res?: ServerResponse };
      if (!context.res || !context.req) return;
      if (await limits.holdForResponse(context.res, 'sse', context.viewer.keyId)) return;
      const max = limits.slots.cap('sse');
      context.log().warn({ keyId: context.viewer.keyId }, 'refusing event stream: too many for this key');
      refused.add(context.req);
      setResultAndStopExecution({
        errors: [
          rateLimitedError(
            `Too many event streams for this API key: at most ${max}. Close one, or follow several jobs with one jobEvents subscription.`,
            SLOT_RETRY_AFTER_SECONDS,
          ),
        ],
      });
    },
    onResultProcess({ serverContext, setResultProcessor }) {
      const req = (serverContext as { req?: IncomingMessage }).req;
      if (!req || !refused.has(req)) return;
      setResultProcessor((result, fetchAPI) => {
        const errors = 'errors' in result ? (result.errors ?? []) : [];
        const body = JSON.stringify({
          errors: errors.map((e) => ({ message: e.message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds: SLOT_RETRY_AFTER_SECONDS } })),
        });
        return new fetchAPI.Response(body, {
          status: 429,
          headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(SLOT_RETRY_AFTER_SECONDS) },
        });
      }, 'application/json');
    },
  };
}
