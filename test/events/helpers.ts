// Helpers for the live-status tests: a subscription that can be waited on, an SSE reader, and an ffmpeg
// that takes its time on one kind of invocation (so that a job is still running when a test needs it).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import WebSocket from 'ws';

export const JOB_UPDATED = `subscription Follow($jobId: ID!, $after: Int) {
  jobUpdated(jobId: $jobId, afterSequence: $after) {
    __typename
    ... on JobEvent { sequence jobId type status progress stage at error { code detail } }
    ... on JobNotFoundError { code message detail }
  }
}`;

export const JOB_EVENTS = `subscription All($status: [JobStatus!]) {
  jobEvents(status: $status) { sequence jobId type status progress stage }
}`;

export const ALERTS_SUBSCRIPTION = `subscription {
  alerts {
    __typename
    ... on Alert { id kind code message nextStep jobId endpointId createdAt }
    ... on ForbiddenError { code message detail }
  }
}`;

export interface Followed<T = any> {
  results: T[];
  /** Settles when the server completes the operation (rejects on an error message or a closed socket). */
  done: Promise<T[]>;
  completed: () => boolean;
  /** Waits until some result satisfies `match`. */
  waitFor(match: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Stops the operation from the client side. */
  stop(): void;
}

/** Subscribes and collects each `next` payload's data field (the whole payload when `raw`). */
export function follow<T = any>(client: Client, query: string, variables?: Record<string, unknown>, field?: string): Followed<T> {
  const results: T[] = [];
  const waiters = new Set<() => void>();
  let finished = false;
  let stop = () => {};
  const done = new Promise<T[]>((resolve, reject) => {
    stop = client.subscribe(
      { query, variables },
      {
        next: (value) => {
          results.push((field ? (value.data as Record<string, unknown> | null)?.[field] : value) as T);
          for (const w of waiters) w();
        },
        error: (error) => {
          finished = true;
          for (const w of waiters) w();
          reject(error);
        },
        complete: () => {
          finished = true;
          for (const w of waiters) w();
          resolve(results);
        },
      },
    );
  });
  done.catch(() => {}); // observed by the test when it cares
  return {
    results,
    done,
    completed: () => finished,
    stop: () => stop(),
    waitFor(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = results.find(match);
          if (found !== undefined) {
            cleanup();
            resolve(found);
          } else if (finished) {
            cleanup();
            reject(new Error(`stream ended without a matching result; got ${JSON.stringify(results)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching result within ${timeoutMs} ms; got ${JSON.stringify(results)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

export interface SseResult {
  status: number;
  contentType: string | null;
  /** Each `next` event's parsed data. */
  events: any[];
  completed: boolean;
}

/** Runs a subscription over SSE (POST, Accept: text/event-stream) until the server ends the stream. */
export async function sseCollect(
  baseUrl: string,
  key: string | null,
  query: string,
  variables?: Record<string, unknown>,
  opts: { signal?: AbortSignal } = {},
): Promise<SseResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: opts.signal });
  const result: SseResult = { status: res.status, contentType: res.headers.get('content-type'), events: [], completed: false };
  if (!res.body) return result;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trim());
      }
      if (event === 'complete') result.completed = true;
      else if (data.length && data.join('')) result.events.push(JSON.parse(data.join('\n')));
    }
  }
  return result;
}

export type FfmpegMode = 'normal' | 'slow' | 'hang' | 'fail';

export interface SwitchableFfmpeg {
  path: string;
  /**
   * How invocations with an argument containing `when` behave from now on: normally, after a pause of
   * `seconds` (slow), never finishing (hang: killed by the job's timeout or cancel), or exiting 1 (fail).
   */
  set(mode: FfmpegMode): Promise<void>;
}

/** An ffmpeg wrapper whose behaviour on one kind of invocation a test switches while vidq runs. */
export async function makeSwitchableFfmpeg(dir: string, opts: { realFfmpeg: string; when: string; seconds?: number }): Promise<SwitchableFfmpeg> {
  const state = path.join(dir, `switch-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(state, { recursive: true });
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const file = path.join(state, 'ffmpeg');
  const modeFile = path.join(state, 'mode');
  await writeFile(modeFile, 'normal');
  await writeFile(
    file,
    `#!/bin/sh
mode=$(cat ${q(modeFile)} 2>/dev/null)
match=0
for a in "$@"; do case "$a" in *${q(opts.when)}*) match=1 ;; esac; done
if [ "$match" = 1 ]; then
  case "$mode" in
    slow) sleep ${opts.seconds ?? 2} ;;
    hang) exec sleep 2147483647 ;;
    fail) echo "switchable-ffmpeg: injected failure" >&2; exit 1 ;;
  esac
fi
exec ${q(opts.realFfmpeg)} "$@"
`,
  );
  await chmod(file, 0o755);
  return { path: file, set: (mode) => writeFile(modeFile, mode) };
}

/** Sequences 1..n with no gap and no duplicate. */
export function expectGapless(sequences: number[]) {
  const expected = sequences.map((_, i) => i + 1);
  if (JSON.stringify(sequences) !== JSON.stringify(expected)) {
    throw new Error(`sequences are not 1..${sequences.length}: ${JSON.stringify(sequences)}`);
  }
}

export interface RawSocket {
  ws: WebSocket;
  /** Resolves once the server acknowledged connection_init. */
  acked: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  pings: () => number;
  send(message: unknown): void;
  messages: any[];
}

/** A bare graphql-transport-ws socket, to watch close codes and pings exactly. */
export function openSocket(baseUrl: string, key: string | null, opts: { autoPong?: boolean; localAddress?: string } = {}): RawSocket {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', {
    autoPong: opts.autoPong ?? true,
    localAddress: opts.localAddress,
  });
  let pings = 0;
  const messages: any[] = [];
  ws.on('ping', () => pings++);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const acked = new Promise<void>((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: key ? { authorization: `Bearer ${key}` } : {} })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      if (message.type === 'connection_ack') resolve();
    });
    void closed.then((c) => reject(new Error(`closed before ack: ${c.code} ${c.reason}`)));
  });
  acked.catch(() => {});
  return { ws, acked, closed, pings: () => pings, send: (m) => ws.send(JSON.stringify(m)), messages };
}
