import type { ServerResponse } from 'node:http';

/** Answers with a JSON body (for responses sent outside Yoga: /health, 404, 413, 500). */
export function sendJson(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
