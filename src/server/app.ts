// The API process: HTTP + WebSocket on one port.
import type { AddressInfo } from 'node:net';
import { graphiqlAssetsRoute } from '../graphiql/assets';
import { fileDownloadRoute } from '../jobs/outputs';
import { startJobEventBus } from '../jobs/pubsub';
import type { Services } from '../services';
import { createMultipartParser } from '../uploads/multipart';
import { createHttpServer, type HttpOptions } from './http';
import { buildSchema } from './schema';
import { attachWebSocketServer } from './websocket';
import { createYogaServer } from './yoga';

export interface RunningApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startApi(services: Services, options: HttpOptions & { port?: number; host?: string } = {}): Promise<RunningApi> {
  const jobEvents = await startJobEventBus(services.database.url, services.log);
  const yoga = createYogaServer(buildSchema(), services, jobEvents);
  const httpServer = createHttpServer(services, yoga, { parseMultipart: createMultipartParser(services), ...options, routes: [fileDownloadRoute(services), graphiqlAssetsRoute(), ...(options.routes ?? [])] });
  const ws = attachWebSocketServer(httpServer, yoga, services);
  const port = options.port ?? services.config.port;
  const host = options.host ?? services.config.host;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  services.log.info({ port: actualPort }, `GraphQL ready at http://localhost:${actualPort}/graphql`);
  return {
    url: `http://127.0.0.1:${actualPort}`,
    port: actualPort,
    async close() {
      await ws.close();
      await jobEvents.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}
