// A request whose Accept header names no type Yoga can answer gets Yoga's 406 with an empty body. The
// common case is a subscription posted by a JSON-only client (Accept: application/json): over HTTP a
// subscription is streamed as SSE. This says so in the body, with what to send instead, in the shape of
// every other request-level error.
import type { Plugin } from 'graphql-yoga';

const isStream = (result: unknown): result is AsyncIterator<unknown> => typeof (result as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';

const NOT_ACCEPTABLE_MESSAGES = {
  stream:
    'A subscription over HTTP is streamed as server-sent events: send Accept: text/event-stream, or subscribe over WebSocket (graphql-transport-ws) at /graphql.',
  single: 'This request accepts no type vidq answers with: send Accept: application/json (or application/graphql-response+json).',
};

export function useNotAcceptableMessage(): Plugin {
  return {
    onResultProcess({ result, resultProcessor, acceptableMediaTypes, setResultProcessor }) {
      if (resultProcessor) return; // Yoga found a type this request accepts
      const stream = isStream(result);
      setResultProcessor((unanswered, fetchAPI) => {
        if (stream) void (unanswered as AsyncIterator<unknown>).return?.()?.catch(() => {}); // nothing will read it
        const message = stream ? NOT_ACCEPTABLE_MESSAGES.stream : NOT_ACCEPTABLE_MESSAGES.single;
        return new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: 'NOT_ACCEPTABLE' } }] }), {
          status: 406,
          headers: { 'content-type': 'application/json; charset=utf-8', accept: [...new Set(acceptableMediaTypes)].join(', ') },
        });
      }, 'application/json');
    },
  };
}
