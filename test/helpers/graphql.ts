// Talking to a running vidq the way a client does: fetch for HTTP, graphql-ws for WebSockets.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
}

export async function gql<T = any>(baseUrl: string, key: string | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export function wsClient(baseUrl: string, key: string | null, opts: { lazy?: boolean; onClose?: (code: number, reason: string) => void } = {}): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: key ? { authorization: `Bearer ${key}` } : {},
    lazy: opts.lazy ?? true,
    retryAttempts: 0,
    on: { closed: (event) => opts.onClose?.((event as { code: number }).code, (event as { reason: string }).reason) },
  });
}

/** Runs one operation over a WebSocket and collects every result until it completes or fails. */
export function wsCollect(client: Client, query: string, variables?: Record<string, unknown>) {
  const results: any[] = [];
  const done = new Promise<any[]>((resolve, reject) => {
    client.subscribe(
      { query, variables },
      {
        next: (value) => results.push(value),
        error: (error) => reject(error),
        complete: () => resolve(results),
      },
    );
  });
  return { results, done };
}
