// Helpers for the limits tests: a job row whose events a test appends itself (no worker, no ffmpeg),
// so that a live subscription has something to deliver.
import http from 'node:http';
import type { Database } from '../../src/db/client';
import { insertJobRow, insertVideoRow } from '../helpers/rows';
import { appendJobEvent } from '../../src/jobs/events';
import { openSocket, type RawSocket } from '../events/helpers';

/** A PROCESSING job of `ownerId`, as a worker would have left it; `progress()` commits one more event. */
export async function seedRunningJob(database: Database, ownerId: string) {
  const db = database.db;
  const video = await insertVideoRow(db, ownerId, { metadata: { width: 64, height: 64 } });
  const jobId = await insertJobRow(db, ownerId, video.id, { status: 'PROCESSING' });
  let progress = 0;
  return {
    jobId,
    /** Commits a PROGRESS event (row and NOTIFY in one transaction, as a worker does); returns its sequence. */
    async progress(): Promise<number> {
      progress = Math.min(0.99, progress + 0.01);
      const row = await db.transaction((tx) => appendJobEvent(tx, jobId, { type: 'PROGRESS', status: 'PROCESSING', progress, stage: 'transcode', data: {} }));
      return row.sequence;
    },
  };
}

/** `count` aliased fields: one more than graphql-armor's 30 aliases is refused. */
export function aliasedQuery(count: number) {
  return `query Many { ${Array.from({ length: count }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
}

/** Within the alias, depth and token limits, over the cost limit (20,000): 2,000 fields, ten deep. */
export function costlyQuery() {
  let selection = 'name';
  for (let i = 0; i < 10; i++) selection = `${Array(200).fill('name').join(' ')} ofType { ${selection} }`;
  return `query Costly { __type(name: "Query") { ${selection} } }`;
}

/** Nested selections `depth` deep (introspection types nest without end). */
export function deepQuery(depth: number) {
  let selection = 'name';
  for (let i = 0; i < depth; i++) selection = `ofType { ${selection} }`;
  return `query Deep { __type(name: "Query") { fields { type { ${selection} } } } }`;
}

/** More tokens than graphql-armor's 5,000 (a parse error). */
export function longQuery(tokens: number) {
  return `query Long { ${Array.from({ length: tokens }, () => '__typename').join(' ')} }`;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

/**
 * POSTs a GraphQL query from a given local address (any of 127.0.0.0/8 reaches a server on 127.0.0.1),
 * so that each test has a client address of its own for the per-address limits.
 */
export function postFrom(localAddress: string, baseUrl: string, key: string | null, query: string): Promise<HttpAnswer> {
  const body = JSON.stringify({ query });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  if (key) headers.authorization = `Bearer ${key}`;
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/graphql`, { method: 'POST', headers, localAddress }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) });
        } catch (error) {
          reject(new Error(`non-JSON answer ${res.statusCode}: ${text.slice(0, 200)} (${String(error)})`));
        }
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw graphql-transport-ws socket from a given local address (see postFrom). */
export function socketFrom(localAddress: string, baseUrl: string, key: string | null): RawSocket {
  return openSocket(baseUrl, key, { localAddress });
}

/**
 * Opens a subscription over HTTP with the given Accept header (null: none) and keeps it open until
 * close(). Resolves once the answer's head arrived: status, content type and, for a refusal, its body.
 */
export async function openStream(baseUrl: string, key: string, accept: string | null, query: string) {
  const controller = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  if (accept !== null) headers.accept = accept;
  const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query }), signal: controller.signal });
  const body = res.status === 200 ? null : await res.json();
  return {
    // Held so that the stream stays open: fetch cancels the unread body of a response that is garbage
    // collected, which closes the stream and gives its slot back behind the test's back.
    response: res,
    status: res.status,
    contentType: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    body,
    close: () => controller.abort(),
  };
}

/** Opens a subscription over SSE from a given local address; resolves with the status once the head arrived, then hangs up. */
export function streamStatusFrom(localAddress: string, baseUrl: string, key: string, query: string): Promise<number> {
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}/graphql`,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` } },
      (res) => {
        resolve(res.statusCode!);
        req.destroy();
      },
    );
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    req.end(body);
  });
}
