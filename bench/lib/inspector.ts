// Forcing a full garbage collection in another Node process before reading its memory, through the
// inspector protocol (the process runs with --inspect=127.0.0.1:0). Without it, "RSS delta" measures
// whatever garbage the process happens not to have collected yet.
import type { Readable } from 'node:stream';
import WebSocket from 'ws';

/** Reads the inspector's WebSocket URL from the child's stderr ("Debugger listening on ws://…"). */
export function inspectorUrl(stderr: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /Debugger listening on (ws:\/\/\S+)/.exec(buffer);
      if (match) {
        stderr.off('data', onData);
        stderr.resume(); // keep draining it
        resolve(match[1]);
      }
    };
    stderr.on('data', onData);
    stderr.once('end', () => reject(new Error(`no inspector URL in: ${buffer}`)));
  });
}

export interface MemoryUsage {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Two full collections, then process.memoryUsage() of the target. */
export async function collectGarbage(url: string): Promise<MemoryUsage> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const mine = ++id;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(String(data));
        if (message.id !== mine) return;
        ws.off('message', onMessage);
        resolve(message.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id: mine, method, params }));
    });
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const result = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  ws.close();
  return JSON.parse(result.result.value) as MemoryUsage;
}
