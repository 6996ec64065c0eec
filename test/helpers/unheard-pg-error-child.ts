// A `vidq serve` stand-in for one moment of its stop: a pg client whose listeners are gone (as pg-boss
// leaves its LISTEN connection while closing it) hears from the server that its session is over.
// Run by test/db/unheard-errors.test.ts: `unguarded` leaves Node's default, `other` throws an ordinary error.
import pg from 'pg';
import { handleUncaughtExceptions } from '../../src/db/unheard-errors.ts';
import { createLogger } from '../../src/logger.ts';

const [databaseUrl, mode] = process.argv.slice(2);
if (mode !== 'unguarded') handleUncaughtExceptions(createLogger('info'));

if (mode === 'other') {
  setTimeout(() => {
    throw new TypeError('a bug of ours');
  }, 10);
} else {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'unheard-error-test' });
  await client.connect();
  const stream = client.connection.stream;
  const closed = new Promise((resolve) => stream.once('close', resolve));
  // What the server says next is read only after the close below, as when it says it during the close.
  stream.pause();
  // Another session ends this one, as a server stopping does: its backend sends FATAL 57P01 and exits.
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'unheard-error-test'`);
  while ((await admin.query(`select 1 from pg_stat_activity where application_name = 'unheard-error-test'`)).rows.length) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await admin.end();
  // pg-boss's close of its LISTEN connection: every listener off, then end().
  client.removeAllListeners();
  void client.end().catch(() => {});
  stream.resume();
  await closed;
  // Still here: what a stopping vidq goes on to do next.
  setTimeout(() => {
    console.log('still running after the session ended');
    process.exit(0);
  }, 100);
}
