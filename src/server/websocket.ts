// graphql-ws on the same port and path as HTTP. Each operation runs through Yoga's envelope, so the
// API key is checked again on every operation: a revoked key closes the socket at its next one.
import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { authenticate, AuthenticationError } from '../auth/authenticate';
import { newId } from '../db/ids';
import type { Services } from '../services';
import { requestStore } from './request-context';
import type { Yoga } from './yoga';

/** The close code for a missing, unknown or revoked key (graphql-ws's "Forbidden"). */
export const WS_CLOSE_FORBIDDEN = CloseCode.Forbidden; // 4403

type EnvelopedArgs = ExecutionArgs & {
  rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
};

export function attachWebSocketServer(httpServer: Server, yoga: Yoga, services: Services) {
  const wsServer = new WebSocketServer({ server: httpServer, path: yoga.graphqlEndpoint });
  const log = services.log.child({ component: 'ws' });

  const disposable = useServer(
    {
      connectionInitWaitTimeout: 10_000,
      // Refusing here makes graphql-ws close the socket with 4403.
      onConnect: async (ctx: Context<Record<string, unknown>>) => {
        try {
          await authenticate(services.database.db, ctx.connectionParams?.authorization);
          return true;
        } catch (error) {
          if (error instanceof AuthenticationError) return false;
          throw error;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const info = { requestId: newId('req') };
        return requestStore.run(info, async () => {
          const extra = ctx.extra as { request: import('node:http').IncomingMessage; socket: import('ws').WebSocket };
          const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
            ...ctx,
            req: extra.request,
            socket: extra.socket,
            params: payload,
            connectionParams: ctx.connectionParams ?? {},
          });
          let contextValue;
          try {
            contextValue = await contextFactory();
          } catch (error) {
            if (error instanceof AuthenticationError) {
              log.info({ requestId: info.requestId }, 'closing socket: API key no longer valid');
              extra.socket.close(WS_CLOSE_FORBIDDEN, 'Forbidden');
              return [error];
            }
            throw error;
          }
          const args: EnvelopedArgs = {
            schema,
            operationName: payload.operationName,
            document: parse(payload.query),
            variableValues: payload.variables,
            contextValue,
            rootValue: { execute, subscribe },
          };
          const errors = validate(args.schema, args.document);
          if (errors.length) return errors;
          return args;
        });
      },
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args) as never,
    },
    wsServer,
  );

  return {
    wsServer,
    async close() {
      await disposable.dispose();
      wsServer.close();
    },
  };
}
