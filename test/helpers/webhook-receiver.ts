// A real HTTP server on 127.0.0.1 for webhook tests: records every request and answers however
// the test scripts it (any status, headers, delays, hanging forever, or a sequence of answers).
// Real sockets instead of mocks, so redirects, timeouts and the connect-time guard are exercised
// exactly as in production.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: Date;
}

export interface Reply {
  status?: number; // default 200
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number; // wait before answering
  hang?: boolean; // never answer (the client must time out)
  hangAfterHeaders?: boolean; // send status and headers, then never finish the body
}

/** A reply, a function of the request (and its 0-based index), or a scripted list of replies. */
export type Behaviour = Reply | Reply[] | ((req: Received, index: number) => Reply | Promise<Reply>);

export interface Receiver {
  url: string;
  requests: Received[];
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  setBehaviour(behaviour: Behaviour): void;
  close(): Promise<void>;
}

function toFunction(b: Behaviour): (req: Received, index: number) => Reply | Promise<Reply> {
  if (typeof b === 'function') return b;
  // A sequence repeats its last entry once exhausted: [500, 500, 200] then 200 forever.
  if (Array.isArray(b)) return (_req, i) => b[Math.min(i, b.length - 1)] ?? {};
  return () => b;
}

export async function startReceiver(behaviour: Behaviour = {}): Promise<Receiver> {
  let reply = toFunction(behaviour);
  let counter = 0; // index within the current behaviour, reset by setBehaviour
  const requests: Received[] = [];
  const waiters = new Set<() => void>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: new Date(),
      };
      requests.push(received);
      for (const w of waiters) w();
      const r = await reply(received, counter++);
      if (r.hang) return; // keep the socket open; close() destroys it
      if (r.delayMs) await new Promise((done) => setTimeout(done, r.delayMs));
      if (res.destroyed) return;
      res.writeHead(r.status ?? 200, r.headers);
      if (r.hangAfterHeaders) return void res.flushHeaders();
      res.end(r.body ?? '');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitFor(n, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < n) return;
          cleanup();
          resolve(requests.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`receiver got ${requests.length} request(s), expected ${n} within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    setBehaviour(b) {
      reply = toFunction(b);
      counter = 0;
    },
    close() {
      // Hanging requests would otherwise keep server.close() waiting forever.
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}
