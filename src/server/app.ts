// The API process: HTTP + WebSocket on one port.
import { anyUserExists } from '../auth/users';
import { dashboardRoute } from '../dashboard/route';
import { metricsRoute } from '../metrics/route';
import { REST_UPLOAD_FORM, restRoute } from '../rest/route';
import type { AddressInfo } from 'node:net';
import { graphiqlAssetsRoute } from '../graphiql/assets';
import { fileDownloadRoute } from '../downloads/route';
import { startLimits } from '../limits/index';
import type { Services } from '../services';
import { createTusEndpoint } from '../uploads/tus/route';
import { createMultipartParser } from '../uploads/upload-request';
import { webhookSchemaRoute } from '../webhooks/schema-route';
import { createHttpServer, type HttpOptions } from './http';
import { startLiveFeeds } from './live-feeds';
import { buildSchema } from './schema';
import { attachWebSocketServer } from './websocket';
import { createYogaServer } from './yoga';
import { listenOn } from '../listen';

export interface RunningApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startApi(services: Services, options: HttpOptions & { port?: number; host?: string } = {}): Promise<RunningApi> {
  const limits = await startLimits(services);
  const live = await startLiveFeeds(services).catch(async (error) => {
    await limits.close();
    throw error;
  });
  const yoga = createYogaServer(buildSchema(), services, live, limits);
  const tus = createTusEndpoint(services, limits);
  const httpServer = createHttpServer(services, yoga, {
    parseMultipart: createMultipartParser(services, limits),
    ...options,
    routes: [
      metricsRoute(services),
      dashboardRoute(services),
      restRoute(services, yoga, createMultipartParser(services, limits, REST_UPLOAD_FORM)),
      fileDownloadRoute(services),
      tus.route,
      webhookSchemaRoute(),
      graphiqlAssetsRoute(),
      ...(options.routes ?? []),
    ],
  });
  const ws = attachWebSocketServer(httpServer, yoga, services, limits, live.keyRevocations);
  const port = options.port ?? services.config.port;
  const host = options.host ?? services.config.host;
  await listenOn(httpServer, port, host, 'PORT').catch(async (error) => {
    await ws.close();
    await tus.close();
    await live.hub.close();
    await limits.close();
    throw error;
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  // The address it listens on when HOST names one (localhost may resolve to ::1 where only 127.0.0.1 listens).
  const shown = !host || host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  const base = `http://${shown}:${actualPort}`;
  services.log.info({ port: actualPort }, `vidq ready: the dashboard at ${base}/, GraphQL at ${base}/graphql`);
  // A first start: say how to get in.
  if (!(await anyUserExists(services.database.db).catch(() => true))) {
    services.log.info('no users yet: create one with `npx vidq users create --name NAME --admin`, then its key with `npx vidq keys create --user USER_ID`');
  }
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    async close() {
      await ws.close();
      await live.hub.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await tus.close(); // no PATCH is left: its followers' parts are aborted (at most a few seconds)
      await limits.close();
    },
  };
}
