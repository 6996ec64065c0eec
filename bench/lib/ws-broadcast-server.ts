// The baseline of bench/events.ts: a bare `ws` server on node:http that LISTENs on PostgreSQL and, on
// each NOTIFY, sends one prebuilt message to every connected client. No protocol, no auth, no GraphQL,
// no database read: the least a server can do to push the same bytes to the same sockets.
// Prints {"port": N} on its first stdout line once it listens.
// env: DATABASE_URL, CHANNEL, TEMPLATE (the message, with __SEQ__ where the sequence goes)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { WebSocketServer } from 'ws';

const template = process.env.TEMPLATE!;
const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });

await sql.listen(process.env.CHANNEL!, (payload) => {
  const message = template.replace('__SEQ__', payload);
  for (const client of wss.clients) client.send(message);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', async () => {
  for (const client of wss.clients) client.terminate();
  await sql.end({ timeout: 1 });
  server.close(() => process.exit(0));
});
