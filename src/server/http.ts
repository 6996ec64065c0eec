// node:http in front of everything: request ids and access logs, /health, file downloads, multipart
// uploads (streamed to disk before Yoga sees the request), then Yoga.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Services } from '../services';
import { readGraphQLBody } from './graphql-body';
import { checkHealth } from '../health/check';
import { sendJson } from './http-json';
import { type RequestInfo, requestIdFrom, requestStore } from './request-context';
import type { HttpRoute, MultipartParser } from './route';
import { unavailableCause, unavailableMessage } from './unavailable';
import type { Yoga } from './yoga';

export interface HttpOptions {
  routes?: HttpRoute[];
  parseMultipart?: MultipartParser;
}

const UPLOAD_REQUEST_TIMEOUT_MS = 6 * 3600 * 1000;

function isMultipart(req: IncomingMessage) {
  return req.method === 'POST' && (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

export function createHttpServer(services: Services, yoga: Yoga, options: HttpOptions = {}) {
  // The access log's fields are fixed and hold no secrets (no headers, no query string): redaction,
  // which walks every logged object, is skipped for it.
  const accessLog = services.log.child({ component: 'http' }, { redact: [] });

  async function route(req: IncomingMessage, res: ServerResponse, info: RequestInfo) {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendJson(res, 400, { error: 'Malformed request target.' });
    }
    if (url.pathname === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const report = await checkHealth(services);
      return sendJson(res, report.status === 'ok' ? 200 : 503, report);
    }
    for (const handle of options.routes ?? []) {
      if (await handle(req, res, url)) return;
    }
    if (url.pathname === '/graphql' && isMultipart(req) && options.parseMultipart) {
      const uploadParams = await options.parseMultipart(req, res);
      if (res.writableEnded) return; // the parser already answered (malformed request)
      return yoga(req, res, { req, res, parseBody: () => uploadParams });
    }
    if (url.pathname === '/graphql' && req.method === 'POST') {
      const body = await readGraphQLBody(req, res);
      if (!body) return; // answered: too large
      return yoga(req, res, { req, res, parseBody: body.parser });
    }
    if (url.pathname === '/graphql') return yoga(req, res, { req, res });
    sendJson(res, 404, { error: 'Not found. GraphQL is served at /graphql, health at /health.' });
    void info;
  }

  // Node ends requests that take over 5 minutes to arrive: a 1 GB upload on a slow link needs longer.
  // Headers must still arrive promptly (headersTimeout), so idle connections cannot pile up.
  const serverOptions = { requestTimeout: UPLOAD_REQUEST_TIMEOUT_MS, headersTimeout: 60_000 };
  return http.createServer(serverOptions, (req, res) => {
    const started = process.hrtime.bigint();
    const info: RequestInfo = { requestId: requestIdFrom(req.headers['x-request-id']) };
    res.setHeader('x-request-id', info.requestId);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      accessLog.info(
        {
          requestId: info.requestId,
          userId: info.userId,
          operationName: info.operationName,
          method: req.method,
          path: req.url?.split('?')[0],
          status: res.statusCode,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        'request',
      );
    });
    requestStore.run(info, () => {
      route(req, res, info).catch((error) => {
        const unavailable = unavailableCause(error);
        if (unavailable && !res.headersSent) {
          accessLog.warn({ err: error, requestId: info.requestId }, `service unavailable: ${unavailable}`);
          return sendJson(res, 503, {
            errors: [
              {
                message: unavailableMessage(unavailable, info.requestId),
                extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, requestId: info.requestId },
              },
            ],
          });
        }
        accessLog.error({ err: error, requestId: info.requestId }, 'request failed');
        if (!res.headersSent) {
          sendJson(res, 500, {
            errors: [{ message: `Unexpected error. Quote request id ${info.requestId}.`, extensions: { code: 'INTERNAL_ERROR', requestId: info.requestId } }],
          });
        } else res.destroy();
      });
    });
  });
}
