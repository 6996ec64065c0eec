// Structured JSON logs. Every request and job log line carries the ids needed to correlate it.
import pino, { type Logger } from 'pino';

export type { Logger };

type Destination = ReturnType<typeof pino.destination>;
const destinations = new Set<Destination>();

/** A failed statement's bound values: the error text of drizzle ("params: …") and postgres.js (`parameters`). */
const PARAMS_LINE = /\nparams: [^\n]*/g;
const VALUE_KEYS = ['parameters', 'params', 'args', 'client'];

function withoutValues(node: unknown, depth = 0): unknown {
  if (!node || typeof node !== 'object' || depth > 8) return node;
  const out = node as Record<string, unknown>;
  for (const key of VALUE_KEYS) delete out[key];
  // PostgreSQL's DETAIL quotes the rows it refused ("Failing row contains (…)", "Key (…)=(…)").
  if ('severity' in out) delete out.detail;
  for (const key of ['message', 'stack']) if (typeof out[key] === 'string') out[key] = (out[key] as string).replace(PARAMS_LINE, '\nparams: [not logged]');
  if (out.cause) out.cause = withoutValues(out.cause, depth + 1);
  return out;
}

/**
 * Errors as pino serializes them, minus what must not be in a log or adds nothing to it: the values
 * bound to a failed SQL statement (a fresh webhook secret, an API key's hash, a user's input) and the
 * whole driver client pg's errors (through pg-boss) carry. The statement's text stays.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  return withoutValues(pino.stdSerializers.err(error) as unknown as Record<string, unknown>);
}

/**
 * Lines are buffered (up to 4 KB, and for at most a second): one write per request costs more CPU than
 * the request's own logging. They are flushed at exit (flushLogs); a SIGKILL can lose the last second.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  let destination: Destination | undefined;
  if (level !== 'silent') {
    destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    destinations.add(destination);
    const d = destination;
    setInterval(() => d.flush(), 1000).unref();
  }
  return pino(
    {
      level,
      base: { service: 'vidq', pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      redact: { paths: ['authorization', '*.authorization', 'key', '*.key', 'secret', '*.secret'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream,
  );
}

/** Writes out every buffered line; call before process.exit(). */
export function flushLogs(): void {
  for (const d of destinations) {
    try {
      d.flushSync();
    } catch {
      // not ready yet or already closed: nothing buffered to lose
    }
  }
}

/**
 * Waits until every buffered line is written, including one already being written asynchronously
 * (flushLogs at exit cannot finish that one: a fatal line in it would be lost). At most `timeoutMs`.
 */
export async function drainLogs(timeoutMs = 1000): Promise<void> {
  const drained = [...destinations].map(
    (d) =>
      new Promise<void>((resolve) => {
        try {
          d.flush(() => resolve());
        } catch {
          resolve(); // not ready yet or already closed: nothing buffered to lose
        }
      }),
  );
  await Promise.race([Promise.all(drained), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}

process.once('exit', flushLogs);
