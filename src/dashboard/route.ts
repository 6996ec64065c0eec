// The dashboard (GET /): a few static files and the real client libraries (graphql-ws, tus-js-client)
// from node_modules, served by vidq itself — no build step, no CDN. Its Content-Security-Policy allows
// only the page's own origin (plus the bucket's, for presigned downloads with STORAGE_DRIVER=s3).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HttpRoute } from '../server/route';
import type { Services } from '../services';

const require = createRequire(import.meta.url);
const PUBLIC = path.join(import.meta.dirname, 'public');

interface Asset {
  body: Buffer;
  type: string;
}

function load(file: string, type: string): Asset {
  return { body: readFileSync(file), type };
}

const JS = 'text/javascript; charset=utf-8';

function assets(): Record<string, Asset> {
  return {
    '/': load(path.join(PUBLIC, 'index.html'), 'text/html; charset=utf-8'),
    '/dashboard/app.js': load(path.join(PUBLIC, 'app.js'), JS),
    '/dashboard/api.js': load(path.join(PUBLIC, 'api.js'), JS),
    '/dashboard/views.js': load(path.join(PUBLIC, 'views.js'), JS),
    '/dashboard/style.css': load(path.join(PUBLIC, 'style.css'), 'text/css; charset=utf-8'),
    '/dashboard/icon.svg': load(path.join(PUBLIC, 'icon.svg'), 'image/svg+xml'),
    '/dashboard/vendor/graphql-ws.js': load(path.join(path.dirname(require.resolve('graphql-ws/package.json')), 'umd/graphql-ws.min.js'), JS),
    '/dashboard/vendor/tus.js': load(path.join(path.dirname(require.resolve('tus-js-client/package.json')), 'dist/tus.min.js'), JS),
  };
}

export function contentSecurityPolicy(services: Pick<Services, 'config'>): string {
  const { s3 } = services.config;
  const bucket = services.config.storageDriver === 's3' ? ` ${s3.endpoint ? new URL(s3.endpoint).origin : 'https://*.amazonaws.com'}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data:${bucket}`,
    `media-src 'self' blob:${bucket}`,
    "connect-src 'self'", // fetch, tus and the WebSocket (same origin)
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function dashboardRoute(services: Services): HttpRoute {
  const files = assets();
  const csp = contentSecurityPolicy(services);
  return async (req, res, url) => {
    const asset = files[url.pathname];
    if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': url.pathname === '/' ? 'no-cache' : 'public, max-age=300',
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
    return true;
  };
}
