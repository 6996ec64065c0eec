// GET /metrics: the Prometheus text format, for `Authorization: Bearer <METRICS_TOKEN>` (when set) or an
// admin's API key; 401 otherwise (API.md), whose text says when the key works but is not an admin's.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, parseBearer } from '../auth/authenticate';
import type { HttpRoute } from '../server/route';
import type { Services } from '../services';
import { refreshClusterGauges } from './cluster';
import { registry } from './index';

async function access(services: Services, authorization: string | undefined): Promise<'allowed' | 'unauthenticated' | 'not-admin'> {
  const token = services.config.metricsToken;
  const given = parseBearer(authorization);
  if (!given) return 'unauthenticated';
  if (token && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token))) return 'allowed';
  const viewer = await authenticate(services.database.db, authorization).catch(() => null);
  if (!viewer) return 'unauthenticated';
  return viewer.isAdmin ? 'allowed' : 'not-admin';
}

export function metricsRoute(services: Services): HttpRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/metrics' || req.method !== 'GET') return false;
    const answer = await access(services, req.headers.authorization);
    if (answer === 'unauthenticated') {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end('Send Authorization: Bearer <METRICS_TOKEN> or an admin API key.\n');
      return true;
    }
    if (answer === 'not-admin') {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end("This API key is not an admin's: /metrics takes an admin's key or METRICS_TOKEN.\n");
      return true;
    }
    await refreshClusterGauges(services).catch((err) => services.log.warn({ err }, 'metrics: cluster gauges not read'));
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(await registry.metrics());
    return true;
  };
}
