// GET /webhooks/schema.json: the JSON Schema of every webhook payload (no key needed: it is public).
import type { HttpRoute } from '../server/route';
import { printedWebhookSchema } from './schemas';

export function webhookSchemaRoute(): HttpRoute {
  const body = printedWebhookSchema();
  return async (req, res, url) => {
    if (url.pathname !== '/webhooks/schema.json' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    res.writeHead(200, {
      'content-type': 'application/schema+json; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
