// Server-sent event streams (a subscription over HTTP: Accept: text/event-stream) are long-lived
// connections like WebSockets, so a key may hold at most WS_MAX_CONNECTIONS_PER_KEY of them on one API
// process, counted apart from its sockets. One more is answered 429 RATE_LIMITED before Yoga runs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, AuthenticationError } from '../auth/authenticate';
import type { Services } from '../services';
import { sendJson } from './http-json';

/** How long a refused client is asked to wait: a stream of the same key may end any moment. */
const RETRY_AFTER_SECONDS = 5;

export function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

export function createEventStreamLimiter(services: Services) {
  const perKey = new Map<string, number>();
  const max = services.config.wsMaxConnectionsPerKey;
  return {
    /** Counts the stream against its key until the response closes; false when refused (already answered). */
    async admit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      let keyId: string;
      try {
        keyId = (await authenticate(services.database.db, req.headers.authorization)).keyId;
      } catch (error) {
        if (error instanceof AuthenticationError) return true; // Yoga answers 401 as for any request
        throw error;
      }
      const open = perKey.get(keyId) ?? 0;
      if (open >= max) {
        services.log.warn({ keyId, open }, 'refusing event stream: too many for this key');
        res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
        sendJson(res, 429, {
          errors: [
            {
              message: `Too many event streams for this API key: at most ${max} on this server. Close one, or follow several jobs with one jobEvents subscription.`,
              extensions: { code: 'RATE_LIMITED', retryAfterSeconds: RETRY_AFTER_SECONDS },
            },
          ],
        });
        return false;
      }
      perKey.set(keyId, open + 1);
      res.once('close', () => {
        const n = (perKey.get(keyId) ?? 1) - 1;
        if (n > 0) perKey.set(keyId, n);
        else perKey.delete(keyId);
      });
      return true;
    },
  };
}
