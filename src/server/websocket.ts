// graphql-ws (graphql-transport-ws) on the same port and path as HTTP. graphql-ws's protocol core
// (makeServer) runs every socket; this file binds it to `ws` (in place of graphql-ws/use/ws, so that
// it controls what each socket costs: ws-connection.ts) and hands subscriptions to the fast path
// (ws-subscriptions.ts).
// Every operation is authenticated again through Yoga's envelope.
//
// Connection hygiene:
//   - the key is checked in connection_init (a missing, unknown or revoked key closes with 4403), which
//     must come within 10 s;
//   - keep-alive pings every WS_KEEPALIVE_SECONDS; a socket that does not answer in time is dropped;
//   - at most WS_MAX_CONNECTIONS_PER_KEY open sockets per key across all API processes (a slot of
//     limits/slots.ts; more: closed with 4429) and WS_MAX_SUBSCRIPTIONS_PER_CONNECTION operations at
//     once per socket (more: that operation gets an `error` message with code RATE_LIMITED; the socket
//     stays open);
//   - a wrong key counts against the client's address (limits/auth-failures.ts); past the limit the
//     socket is closed with 4429 "Too many failed authentications from this address: retry after N s"
//     instead of 4403;
//   - a revoked key's sockets are closed with 4403 at once (revokeApiKey NOTIFYs every API process), and
//     every open socket's key is checked again every WS_KEY_RECHECK_SECONDS (disabled users too);
//   - a socket too slow to take what it is sent is closed with 1013 (its client reconnects).
import { metrics } from '../metrics/index';
import type { IncomingMessage, Server } from 'node:http';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { type Context, handleProtocols, makeServer, MessageType, parseMessage } from 'graphql-ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { authenticate, AuthenticationError, parseBearer } from '../auth/authenticate';
import { activeKeyIds, whyKeyRefused } from '../auth/keys';
import { newId } from '../db/ids';
import type { KeyRevocationFeed } from '../auth/revocation-feed';
import type { GraphQLContext } from '../graphql/context';
import type { Limits } from '../limits/index';
import type { Services } from '../services';
import { requestStore } from './request-context';
import { Connection, connections, type Extra, onSocketClose, onSocketError, onSocketMessage, onSocketPong, type SocketManager } from './ws-connection';
import {
  CONNECTION_INIT_TIMEOUT_MS,
  forbiddenReason,
  MAX_MESSAGE_BYTES,
  operationLimitError,
  WS_CLOSE_FORBIDDEN,
  WS_CLOSE_GOING_AWAY,
  WS_CLOSE_INIT_TIMEOUT,
  WS_CLOSE_INTERNAL_ERROR,
  WS_CLOSE_TOO_MANY_CONNECTIONS,
  WS_CLOSE_TRY_AGAIN_LATER,
} from './ws-policy';
import { unavailableCause } from './unavailable';
import { refusal, slotCount, WsSubscriptions } from './ws-subscriptions';
import type { Yoga } from './yoga';

type EnvelopedArgs = ExecutionArgs & {
  rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
};

function createSocketManager(yoga: Yoga, services: Services, limits: Limits, keyRevocations: KeyRevocationFeed) {
  const { config } = services;
  const db = services.database.db;
  const log = services.log.child({ component: 'ws' });
  /** Authenticated sockets. */
  const sockets = new Set<Connection>();
  /** Sockets still waiting for connection_init. */
  const pending = new Set<Connection>();
  /** Authenticated sockets per key on this process (the key's connectionParams go with its last one). */
  const perKey = new Map<string, number>();
  /** connectionParams per key, shared by that key's sockets (graphql-ws keeps them for the socket's life). */
  const paramsByKey = new Map<string, Record<string, unknown>>();

  const manager = {
    log,
    sockets,
    pending,

    forget(connection: Connection) {
      if (!sockets.delete(connection)) return;
      keyRevocations.unwatch(connection.keyId!, connection);
      subscriptions.closed(connection);
      limits.slots.release('ws', connection.keyId!);
      const n = (perKey.get(connection.keyId!) ?? 1) - 1;
      if (n > 0) perKey.set(connection.keyId!, n);
      else {
        perKey.delete(connection.keyId!);
        paramsByKey.delete(connection.keyId!);
      }
    },

    closeRevoked(connection: Connection) {
      log.info({ keyId: connection.keyId }, 'closing socket: API key revoked or user disabled');
      manager.forget(connection);
      connection.socket.close(WS_CLOSE_FORBIDDEN, forbiddenReason('no longer valid'));
    },

    /** Subscriptions of authenticated sockets go to the fast path; everything else to graphql-ws. */
    async received(connection: Connection, data: string) {
      try {
        if (connection.ctx?.acknowledged && sockets.has(connection)) {
          let message;
          try {
            message = parseMessage(data);
          } catch {
            message = null; // graphql-ws answers a malformed message (4400)
          }
          if (message?.type === MessageType.Subscribe && (await subscriptions.subscribe(connection, message))) return;
          if (message?.type === MessageType.Complete && subscriptions.complete(connection, message.id)) return;
        }
        await connection.handle?.(data);
      } catch (error) {
        log.error({ err: error }, 'WebSocket message handling failed');
        connection.socket.close(WS_CLOSE_INTERNAL_ERROR, 'Internal server error');
      }
    },
  };

  const subscriptions = new WsSubscriptions({
    yoga,
    log,
    maxOperationsPerSocket: config.wsMaxSubscriptionsPerConnection,
    onUnauthenticated: (socket) => {
      log.info('closing socket: API key no longer valid');
      manager.forget(socket as Connection);
      socket.socket.close(WS_CLOSE_FORBIDDEN, forbiddenReason('no longer valid'));
    },
  });

  /** Authenticates a socket's connection_init and takes its slot; false refuses it (closed already). */
  async function connect(ctx: Context<Record<string, unknown>, Extra>): Promise<boolean> {
    const { socket } = ctx.extra;
    const connection = connections.get(socket);
    if (connection) {
      connection.ctx = ctx;
      pending.delete(connection);
    }
    authorizationAsHttpSpellsIt(ctx.connectionParams);
    let keyId: string;
    try {
      keyId = (await authenticate(db, ctx.connectionParams?.authorization)).keyId;
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      const address = connection?.remoteAddress();
      if (error.failure === 'INVALID_API_KEY' && address) {
        const retryAfter = await limits.authFailures.failed(address);
        // Closed with our own code before graphql-ws's 4403 (a second close is ignored by ws).
        if (retryAfter !== null) {
          socket.close(WS_CLOSE_TOO_MANY_CONNECTIONS, `Too many failed authentications from this address: retry after ${retryAfter} s`);
          return false;
        }
      }
      // graphql-ws's own 4403 says only "Forbidden": say what was wrong with the key.
      const key = parseBearer(ctx.connectionParams?.authorization);
      const problem = error.failure === 'UNAUTHENTICATED' || !key ? 'missing' : await whyKeyRefused(db, key).catch(() => 'unknown' as const);
      socket.close(WS_CLOSE_FORBIDDEN, forbiddenReason(problem));
      return false;
    }
    if (!connection || socket.readyState !== socket.OPEN) return false; // gone while we checked
    if (!(await limits.slots.acquire('ws', keyId))) {
      log.warn({ keyId }, 'refusing socket: too many connections for this key');
      socket.close(WS_CLOSE_TOO_MANY_CONNECTIONS, `Too many connections for this API key: at most ${config.wsMaxConnectionsPerKey}`);
      return false;
    }
    if (socket.readyState !== socket.OPEN) {
      limits.slots.release('ws', keyId); // gone while we counted
      return false;
    }
    perKey.set(keyId, (perKey.get(keyId) ?? 0) + 1);
    connection.keyId = keyId;
    // The key's sockets share one copy of what they authenticated with.
    const params = paramsByKey.get(keyId);
    if (params) (ctx as { connectionParams?: Record<string, unknown> }).connectionParams = params;
    else if (ctx.connectionParams) paramsByKey.set(keyId, ctx.connectionParams);
    sockets.add(connection);
    // watch() reads the key once more after registering it: a revocation since authenticate() above,
    // whose NOTIFY came while nothing watched the key, still closes the socket (4403).
    keyRevocations.watch(keyId, connection);
    return true;
  }

  const server = makeServer<Record<string, unknown>, Extra>({
    connectionInitWaitTimeout: 0, // the housekeeping sweep enforces CONNECTION_INIT_TIMEOUT_MS
    // Refusing here makes graphql-ws close the socket with 4403.
    onConnect: async (ctx) => {
      try {
        return await connect(ctx);
      } catch (error) {
        // PostgreSQL did not answer: a transient failure, said with a code graphql-ws clients retry
        // (thrown on, graphql-ws would close with 4500, which they never retry).
        const unavailable = unavailableCause(error);
        if (!unavailable) throw error;
        log.warn({ err: error }, `refusing socket: ${unavailable}`);
        ctx.extra.socket.close(WS_CLOSE_TRY_AGAIN_LATER, `${unavailable}: retry shortly`);
        return false;
      }
    },
    // Queries and mutations over the socket (subscriptions take the fast path).
    onSubscribe: async (ctx, _id, payload) => {
      const { socket, request } = ctx.extra;
      const connection = connections.get(socket);
      // graphql-ws has already counted this operation in ctx.subscriptions.
      const running = Object.keys(ctx.subscriptions).length - 1 + (connection ? slotCount(connection) : 0);
      const refused = operationLimitError(running, config.wsMaxSubscriptionsPerConnection);
      if (refused) return [refused];
      const info = { requestId: newId('req') };
      return requestStore.run(info, async () => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: request as IncomingMessage,
          connectionParams: ctx.connectionParams ?? {},
        } as never);
        let contextValue: GraphQLContext;
        try {
          contextValue = (await contextFactory()) as GraphQLContext;
        } catch (error) {
          if (error instanceof AuthenticationError) {
            log.info({ requestId: info.requestId }, 'closing socket: API key no longer valid');
            if (connection) manager.forget(connection);
            socket.close(WS_CLOSE_FORBIDDEN, forbiddenReason('no longer valid'));
            return [error];
          }
          throw error;
        }
        // An operation over the query limits (graphql-armor throws from parse and validate) is an
        // `error` message for that operation; the socket and its other operations go on.
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          const refused = refusal(error, 'GRAPHQL_PARSE_FAILED');
          if (refused) return [refused];
          throw error;
        }
        const args: EnvelopedArgs = {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
        let errors: readonly GraphQLError[];
        try {
          errors = validate(args.schema, args.document);
        } catch (error) {
          const refused = refusal(error, 'GRAPHQL_VALIDATION_FAILED');
          if (refused) return [refused];
          throw error;
        }
        if (errors.length) return [...errors];
        return args;
      });
    },
    execute: (args) => (args as EnvelopedArgs).rootValue.execute(args) as never,
    subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args) as never,
  });

  return Object.assign(manager, { server }) satisfies SocketManager;
}

export function attachWebSocketServer(httpServer: Server, yoga: Yoga, services: Services, limits: Limits, keyRevocations: KeyRevocationFeed) {
  const { config } = services;
  const db = services.database.db;
  const wsServer = new WebSocketServer({ server: httpServer, path: yoga.graphqlEndpoint, maxPayload: MAX_MESSAGE_BYTES, handleProtocols });
  // ws re-emits the HTTP server's errors (a port already taken at listen): startApi reports those, and
  // one nobody listened to here would end the process with a stack trace instead.
  wsServer.on('error', () => {});
  const manager = createSocketManager(yoga, services, limits, keyRevocations);
  const { sockets, pending, log } = manager;

  wsServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const connection = new Connection(socket, manager, request);
    connections.set(socket, connection);
    metrics.wsConnections.inc();
    socket.once('close', () => metrics.wsConnections.dec());
    pending.add(connection);
    socket.on('error', onSocketError);
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    connection.onClosed = manager.server.opened(connection, { socket, request: connection.request });
  });

  // One housekeeping timer for every socket (rather than two timers per socket):
  //   - connection_init must come within CONNECTION_INIT_TIMEOUT_MS (4408, as graphql-ws does);
  //   - keep-alive: each socket is pinged WS_KEEPALIVE_SECONDS after its previous ping (or its
  //     connection, so pings stay spread out rather than sent to every socket at once); one that did
  //     not answer the previous ping by then is dropped.
  const keepAliveMs = config.wsKeepAliveSeconds * 1000;
  const housekeeping = setInterval(
    () => {
      const now = Date.now();
      for (const connection of pending) {
        if (now - connection.openedAt < CONNECTION_INIT_TIMEOUT_MS || connection.ctx?.connectionInitReceived) continue;
        pending.delete(connection);
        connection.socket.close(WS_CLOSE_INIT_TIMEOUT, 'Connection initialisation timeout');
      }
      if (!keepAliveMs) return;
      for (const connection of sockets) {
        if (now - connection.pingedAt < keepAliveMs) continue;
        if (!connection.alive) {
          manager.forget(connection);
          connection.socket.terminate();
          continue;
        }
        connection.alive = false;
        connection.pingedAt = now;
        connection.socket.ping();
      }
    },
    keepAliveMs ? Math.min(1000, keepAliveMs / 4) : 1000,
  );
  housekeeping.unref();

  // The safety net behind the revocation NOTIFY: every open socket's key, checked in one query.
  const recheck = setInterval(async () => {
    if (!sockets.size) return;
    const keyIds = [...new Set([...sockets].map((c) => c.keyId!))];
    try {
      const active = await activeKeyIds(db, keyIds);
      for (const connection of [...sockets]) if (!active.has(connection.keyId!)) manager.closeRevoked(connection);
    } catch (error) {
      log.warn({ err: error }, 'checking open sockets’ keys failed; next round retries');
    }
  }, config.wsKeyRecheckSeconds * 1000);
  recheck.unref();

  return {
    wsServer,
    /** Open authenticated sockets (for tests and metrics). */
    get connections() {
      return sockets.size;
    },
    async close() {
      clearInterval(housekeeping);
      clearInterval(recheck);
      for (const socket of wsServer.clients) socket.close(WS_CLOSE_GOING_AWAY, 'Going away');
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/**
 * connectionParams { Authorization: … }, spelled as the HTTP header people copy it from (any case), is
 * taken as `authorization`: the operations' context reads it under that name.
 */
function authorizationAsHttpSpellsIt(params: Record<string, unknown> | undefined) {
  if (!params || params.authorization !== undefined) return;
  const spelled = Object.keys(params).find((name) => name.toLowerCase() === 'authorization');
  if (spelled) params.authorization = params[spelled];
}
