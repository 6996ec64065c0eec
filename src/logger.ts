// Structured JSON logs. Every request and job log line carries the ids needed to correlate it.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'vidq', pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['authorization', '*.authorization', 'key', '*.key', 'secret', '*.secret'], censor: '[redacted]' },
  });
}
