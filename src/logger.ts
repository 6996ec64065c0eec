// Structured JSON logs. Every request and job log line carries the ids needed to correlate it.
import pino, { type Logger } from 'pino';

export type { Logger };

type Destination = ReturnType<typeof pino.destination>;
const destinations = new Set<Destination>();

/**
 * Errors as pino serializes them, minus what drivers hang on them: pg's errors (through pg-boss) carry
 * the whole client — connection state and type tables, kilobytes per line and nothing a reader needs.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const out = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  delete out.client;
  return out;
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

process.once('exit', flushLogs);
