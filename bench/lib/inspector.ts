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

/** Live heap of the target, summed by node type and name (constructor, closure or "string"). */
export async function heapSummary(url: string): Promise<Map<string, { count: number; bytes: number }>> {
  const ws = new WebSocket(url, { maxPayload: 1 << 30 });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const chunks: string[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data));
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(message.params.chunk);
  });
  await new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      if (JSON.parse(String(data)).id === 1) resolve();
    });
    ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } }));
  });
  ws.close();
  const snapshot = JSON.parse(chunks.join(''));
  const fields: string[] = snapshot.snapshot.meta.node_fields;
  const types: string[] = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const nodes: number[] = snapshot.nodes;
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]];
    const name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '' : String(snapshot.strings[nodes[i + nameAt]]).slice(0, 60);
    const key = `${type} ${name}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt];
    out.set(key, entry);
  }
  return out;
}
