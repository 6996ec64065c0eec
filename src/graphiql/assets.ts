// GraphiQL's files, served by vidq itself so the page works with no internet. They come from
// @graphql-yoga/render-graphiql: the same GraphiQL build Yoga's default page loads from a CDN, shipped
// as strings. Each is served as a file of its own (not inlined into a 9 MB page) so that a browser
// caches it: the package version is in the path, so the files never change under a URL.
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRoute } from '../server/route';

const require = createRequire(import.meta.url);
const { version } = require('@graphql-yoga/render-graphiql/package.json') as { version: string };

/** Where the files are served; the page refers to them by these paths. */
export const GRAPHIQL_ASSET_PREFIX = `/graphiql/${version}/`;

export const GRAPHIQL_FILES = {
  style: 'graphiql.css',
  favicon: 'favicon.ico',
  start: 'start.js',
  script: 'yoga-graphiql.js',
  editorWorker: 'editor.worker.js',
  jsonWorker: 'json.worker.js',
  graphqlWorker: 'graphql.worker.js',
} as const;

export function graphiqlAssetUrl(file: (typeof GRAPHIQL_FILES)[keyof typeof GRAPHIQL_FILES]): string {
  return GRAPHIQL_ASSET_PREFIX + file;
}

/**
 * Runs before the GraphiQL bundle: tells Monaco (GraphiQL's editor) where its workers are, then renders
 * GraphiQL with the options the page carries as JSON. A file rather than an inline script, so the page
 * can forbid inline scripts.
 */
const START_SCRIPT = `'use strict';
(function () {
  var workers = {
    editorWorkerService: ${JSON.stringify(graphiqlAssetUrl(GRAPHIQL_FILES.editorWorker))},
    json: ${JSON.stringify(graphiqlAssetUrl(GRAPHIQL_FILES.jsonWorker))},
    graphql: ${JSON.stringify(graphiqlAssetUrl(GRAPHIQL_FILES.graphqlWorker))}
  };
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) { return workers[label]; }
  };
  document.addEventListener('DOMContentLoaded', function () {
    var options = JSON.parse(document.getElementById('graphiql-options').textContent);
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
  });
})();
`;

interface Asset {
  contentType: string;
  body: Buffer;
  gzipped?: Promise<Buffer>;
}

let assets: Promise<Map<string, Asset>> | undefined;

/** Loaded on the first request for a file: the bundle is 9 MB of strings that API-less processes never need. */
function loadAssets(): Promise<Map<string, Asset>> {
  assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
    const js = 'text/javascript; charset=utf-8';
    const text = (contentType: string, body: string): Asset => ({ contentType, body: Buffer.from(body) });
    const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon);
    return new Map<string, Asset>([
      [GRAPHIQL_FILES.style, text('text/css; charset=utf-8', bundle.css)],
      [GRAPHIQL_FILES.start, text(js, START_SCRIPT)],
      [GRAPHIQL_FILES.script, text(js, bundle.js)],
      [GRAPHIQL_FILES.editorWorker, text(js, bundle.editorWorkerService)],
      [GRAPHIQL_FILES.jsonWorker, text(js, bundle.jsonWorker)],
      [GRAPHIQL_FILES.graphqlWorker, text(js, bundle.graphqlWorker)],
      ...(favicon ? [[GRAPHIQL_FILES.favicon, { contentType: favicon[1], body: Buffer.from(favicon[2], 'base64') }] as const] : []),
    ]);
  });
  return assets;
}

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
}

const gzipAsync = promisify(gzip);

/** GET/HEAD /graphiql/<version>/<file>: long-cached, gzipped when the client accepts it (the bundle shrinks ~4x). */
export function graphiqlAssetsRoute(): HttpRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!url.pathname.startsWith(GRAPHIQL_ASSET_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const asset = (await loadAssets()).get(url.pathname.slice(GRAPHIQL_ASSET_PREFIX.length));
    if (!asset) return false;
    const compress = acceptsGzip(req);
    const body = compress ? await (asset.gzipped ??= gzipAsync(asset.body)) : asset.body;
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': body.length,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      ...(compress ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
