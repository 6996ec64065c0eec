// What `vidq serve` does with an exception nothing caught: one kind is a dead connection's last word,
// every other kind ends the process.
import { flushLogs, type Logger } from '../logger';

/** The server ended this session: shutting down (57P01), crashed (57P02) or not yet accepting (57P03). */
const SESSION_ENDED = /^57P0[123]$/;

/**
 * True for the FATAL message a PostgreSQL backend sends before it closes its connection because the
 * server is stopping or has crashed.
 *
 * pg-boss (12.38) closes its LISTEN connection by taking every listener off the pg client and then
 * ending it. When the server ends the session at that moment (PostgreSQL stopping or crashing while
 * vidq stops: `docker compose down`, a host shutdown, the embedded cluster killed), that FATAL arrives
 * after the listeners are gone. Node turns an 'error' event nobody hears into an uncaught exception,
 * which ended vidq in the middle of its own stop: running jobs not handed back, the fatal line unwritten.
 * The error concerns a connection already being closed, and nothing waits for it.
 */
export function isSessionEndedByServer(error: unknown): boolean {
  const { severity, code } = (error ?? {}) as { severity?: unknown; code?: unknown };
  return error instanceof Error && severity === 'FATAL' && typeof code === 'string' && SESSION_ENDED.test(code);
}

/**
 * For `vidq serve`: a session the server ended (above) is logged as a warning and the process goes on
 * with its stop, or pg-boss with its reconnect. Any other uncaught exception is logged as fatal, printed
 * on stderr as Node would, and ends the process with exit code 1.
 */
export function handleUncaughtExceptions(log: Logger): void {
  process.on('uncaughtException', (error) => {
    if (isSessionEndedByServer(error)) {
      log.warn({ err: error }, 'PostgreSQL ended a connection that was already being closed: ignored');
      return;
    }
    log.fatal({ err: error }, 'uncaught exception: exiting');
    flushLogs();
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
