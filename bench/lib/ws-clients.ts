// A process holding many WebSocket clients for bench/events.ts, driven over IPC. The same code talks
// to vidq (graphql-transport-ws: connection_init, then a jobUpdated subscription) and to the bare ws
// baseline (which needs neither), and records, for each `next` message, the sequence it carried and
// when it arrived (performance.timeOrigin + performance.now(): the same clock in every process).
//
// env: TARGET (ws://…/graphql), COUNT, PROTOCOL (graphql|bare), KEY, JOB_ID, AFTER
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const target = process.env.TARGET!;
const count = Number(process.env.COUNT);
const graphql = process.env.PROTOCOL === 'graphql';
const RAMP = 100; // connections opened at a time

const query = `subscription($jobId: ID!, $after: Int) { jobUpdated(jobId: $jobId, afterSequence: $after) { __typename ... on JobEvent { sequence jobId type status progress stage at } } }`;

/** Per client: sequence → arrival time. */
const received: Array<Map<number, number>> = [];
const sockets: WebSocket[] = [];
let closedEarly = 0;

function open(index: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, graphql ? 'graphql-transport-ws' : undefined, { perMessageDeflate: false });
    const arrivals = new Map<number, number>();
    received[index] = arrivals;
    sockets[index] = ws;
    let ready = false;
    ws.on('error', (error) => {
      if (!ready) reject(error);
    });
    ws.on('close', (code, reason) => {
      if (!ready) reject(new Error(`closed before ready: ${code} ${reason}`));
      else closedEarly++;
    });
    ws.on('open', () => {
      if (!graphql) {
        ready = true;
        return resolve();
      }
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${process.env.KEY}` } }));
    });
    ws.on('message', (data) => {
      const at = performance.timeOrigin + performance.now();
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: { jobId: process.env.JOB_ID, after: Number(process.env.AFTER) } } }));
        ready = true;
        return resolve();
      }
      if (message.type === 'next') arrivals.set(message.payload.data.jobUpdated.sequence, at);
    });
  });
}

process.on('message', async (command: { type: string; sequence?: number; sequences?: number[] }) => {
  if (command.type === 'connect') {
    for (let i = 0; i < count; i += RAMP) {
      await Promise.all(Array.from({ length: Math.min(RAMP, count - i) }, (_, k) => open(i + k)));
    }
    process.send!({ type: 'connected', count: sockets.length });
  } else if (command.type === 'count') {
    // How many clients have received this sequence.
    const n = received.filter((m) => m.has(command.sequence!)).length;
    process.send!({ type: 'count', sequence: command.sequence, n, closedEarly });
  } else if (command.type === 'arrivals') {
    // [sequence, arrival] pairs of the measured sequences, every client's.
    const out: number[][] = [];
    for (const seq of command.sequences!) {
      const times: number[] = [];
      for (const m of received) {
        const t = m.get(seq);
        if (t !== undefined) times.push(t);
      }
      out.push(times);
    }
    process.send!({ type: 'arrivals', arrivals: out, closedEarly });
  } else if (command.type === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
process.send!({ type: 'started' });
