// A TCP proxy between vidq and PostgreSQL (or a client and vidq), so a test can cut the database off and bring it back, or
// leave vidq's side of its connections half-open (a network partition PostgreSQL has noticed and vidq
// has not).
import net from 'node:net';
import { createTestDatabase, type TestDatabase } from './db';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Bytes the clients sent so far. */
  readonly bytesFromClients: number;
  /** Destroys every open connection and refuses new ones. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /**
   * PostgreSQL's side of every connection ends (as when its TCP keepalives give up on a vanished
   * peer) while the client's side stays open and silent, and new connections hang the same way.
   */
  partition(): void;
  /** The client finally sees its connections end; new ones go through again. */
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  let open = true;
  let partitioned = false;
  let connections = 0;
  let bytesFromClients = 0;
  const track = (set: Set<net.Socket>, s: net.Socket) => {
    set.add(s);
    s.on('close', () => set.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    track(clients, client);
    connections += 1;
    client.on('data', (chunk: Buffer) => (bytesFromClients += chunk.length));
    if (partitioned) return void client.pause();
    const upstream = net.connect(targetPort, targetHost);
    track(upstreams, upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (partitioned) client.unpipe().pause();
      else client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    get bytesFromClients() {
      return bytesFromClients;
    },
    cut() {
      open = false;
      for (const s of [...clients, ...upstreams]) s.destroy();
    },
    restore() {
      open = true;
    },
    partition() {
      partitioned = true;
      for (const s of upstreams) s.destroy();
    },
    heal() {
      partitioned = false;
      for (const s of clients) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...clients, ...upstreams]) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A fresh test database and a proxy in front of it; `url` reaches the database through the proxy. */
export async function databaseBehindProxy(): Promise<{ database: TestDatabase; proxy: TcpProxy; url: string }> {
  const database = await createTestDatabase();
  const target = new URL(database.url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(database.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return { database, proxy, url: viaProxy.toString() };
}
