// One WebSocket as this server keeps it: a single object per socket, whose methods are graphql-ws's
// transport and whose listeners are module-level functions, so that a socket costs no closures of its
// own (the TypeScript loader gives every named closure a `name` property, ~250 bytes each).
import type { IncomingMessage } from 'node:http';
import type { Context } from 'graphql-ws';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../logger';
import { WS_CLOSE_INTERNAL_ERROR } from './ws-policy';
import type { FastSocket, SlimRequest } from './ws-subscriptions';

/** What a socket's listeners call back into: the process's socket manager (server/websocket.ts). */
export interface SocketManager {
  log: Logger;
  /** Sockets still waiting for connection_init. */
  pending: Set<Connection>;
  /** Lets go of an authenticated socket (its slot, its revocation watch, its subscriptions). */
  forget(connection: Connection): void;
  /** Closes a socket whose key was revoked (4403). */
  closeRevoked(connection: Connection): void;
  /** Takes one message from the socket. */
  received(connection: Connection, data: string): Promise<void>;
}

/** Requests as operations see them, one per Host header (usually a handful), shared by their sockets. */
const slimRequests = new Map<string, SlimRequest>();
export function slimRequest(request: IncomingMessage): SlimRequest {
  const host = request.headers.host ?? '';
  let slim = slimRequests.get(host);
  if (!slim) {
    slim = { headers: { host: request.headers.host } };
    if (slimRequests.size < 100) slimRequests.set(host, slim);
  }
  return slim;
}

export interface Extra {
  request: SlimRequest;
  socket: WebSocket;
}

/**
 * Everything this server keeps per socket, in one object. Its methods are the socket's listeners and
 * graphql-ws's transport (send, close, onMessage), so that a socket costs no closures of its own (the
 * TypeScript loader gives every named closure a `name` property, which alone costs ~250 bytes).
 */
export class Connection implements FastSocket {
  /** graphql-ws's handler for this socket's messages. */
  handle: ((data: string) => Promise<void>) | null = null;
  /** graphql-ws's close handler for this socket. */
  onClosed: ((code: number, reason: string) => Promise<void>) | null = null;
  /** Set once connection_init authenticated. */
  keyId: string | null = null;
  ctx: Context<Record<string, unknown>> | null = null;
  /** Answered the last keep-alive ping. */
  alive = true;
  /** When it was last pinged (first: when it connected, so that pings are spread over time). */
  pingedAt = Date.now();
  readonly openedAt = this.pingedAt;
  slots: FastSocket['slots'] = null;
  readonly request: SlimRequest;

  constructor(
    readonly socket: WebSocket,
    readonly manager: SocketManager,
    request: IncomingMessage,
  ) {
    // Operations only need the Host header (for download links): the upgrade request is not kept.
    this.request = slimRequest(request);
  }

  /**
   * The client's address, read only when needed (a failed authentication): reading it makes Node cache
   * a peer-name object on the socket, ~100 bytes that every open socket would keep. `_socket` is ws's
   * underlying net.Socket.
   */
  remoteAddress(): string | undefined {
    return (this.socket as unknown as { _socket?: { remoteAddress?: string } })._socket?.remoteAddress;
  }

  // graphql-ws's transport interface.
  get protocol() {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.socket.readyState !== this.socket.OPEN) return resolve();
      this.socket.send(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(code?: number, reason?: string) {
    this.socket.close(code, reason);
  }

  onMessage(handler: (data: string) => Promise<void>) {
    this.handle = handler;
  }

  revoked() {
    this.manager.closeRevoked(this);
  }
}

export const connections = new WeakMap<WebSocket, Connection>();

export function onSocketMessage(this: WebSocket, data: RawData) {
  const connection = connections.get(this);
  if (connection) void connection.manager.received(connection, String(data));
}

export function onSocketClose(this: WebSocket, code: number, reason: Buffer) {
  const connection = connections.get(this);
  if (!connection) return;
  connection.manager.pending.delete(connection);
  connection.manager.forget(connection);
  void connection.onClosed?.(code, String(reason));
}

export function onSocketError(this: WebSocket, error: Error) {
  connections.get(this)?.manager.log.warn({ err: error }, 'WebSocket error');
  this.close(WS_CLOSE_INTERNAL_ERROR, 'Internal server error');
}

export function onSocketPong(this: WebSocket) {
  const connection = connections.get(this);
  if (connection) connection.alive = true;
}
