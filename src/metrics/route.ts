// GET /metrics: the Prometheus text format, for `Authorization: Bearer <METRICS_TOKEN>` (when set) or an
// admin's API key; 401 for anything else (without saying which of the two was expected).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, parseBearer } from '../auth/authenticate';
import type { HttpRoute } from '../server/route';
import type { Services } from '../services';
import { refreshClusterGauges } from './cluster';
import { registry } from './index';

async function allowed(services: Services, authorization: string | undefined): Promise<boolean> {
  const token = services.config.metricsToken;
  const given = parseBearer(authorization);
  if (!given) return false;
  if (token && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token))) return true;
  const viewer = await authenticate(services.database.db, authorization).catch(() => null);
  return viewer?.isAdmin === true;
}

export function metricsRoute(services: Services): HttpRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/metrics' || req.method !== 'GET') return false;
    if (!(await allowed(services, req.headers.authorization))) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      res.end('Send Authorization: Bearer <METRICS_TOKEN> or an admin API key.\n');
      return true;
    }
    await refreshClusterGauges(services).catch((err) => services.log.warn({ err }, 'metrics: cluster gauges not read'));
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(await registry.metrics());
    return true;
  };
}
