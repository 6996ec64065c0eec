// A worker-only process (ROLE=worker) has no API server, but its counters (jobs, retries, stage
// durations, webhook deliveries) are its own: it answers GET /metrics (and GET /health, for
// supervisors) on METRICS_PORT. Nothing else: no GraphQL is loaded in a worker.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkHealth } from '../health/check';
import { listenOn } from '../listen';
import type { Services } from '../services';
import { metricsRoute } from './route';

export interface WorkerMetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startWorkerMetricsServer(services: Services): Promise<WorkerMetricsServer> {
  const metrics = metricsRoute(services);
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (await metrics(req, res, url)) return;
      if (url.pathname === '/health' && req.method === 'GET') {
        // Written here, not with server/http-json: a worker process loads nothing of src/server.
        const report = await checkHealth(services);
        res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(report));
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('A worker process serves /metrics and /health only.\n');
    } catch (err) {
      services.log.warn({ err }, 'worker metrics server: request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await listenOn(server, services.config.metricsPort ?? 0, services.config.host, 'METRICS_PORT');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
