// The first contact with the PostgreSQL that DATABASE_URL names, before anything else uses it. The
// driver's own failures ("connect ECONNREFUSED 127.0.0.1:1", 'database "x" does not exist') name neither
// the variable nor a fix, and a peer that accepts the connection but never answers (a wrong port, a
// proxy) would keep postgres.js retrying forever. Here each becomes one line that starts with
// DATABASE_URL and ends with the next step, and the wait is bounded.
import postgres from 'postgres';

/** A start stopped because DATABASE_URL's database cannot be used: its message is meant for the operator as it is. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** How long the first answer may take: a start waits no longer for a server that does not answer. */
export const FIRST_ANSWER_TIMEOUT_MS = 15_000;

/** The URL as it can be printed: the password, if any, replaced by ***. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***'); // postgres.js reads it there too
    return parsed.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}

/** Connects once and asks for nothing; fails with a DatabaseUnreachableError that says what to do. */
export async function checkDatabaseReachable(url: string, timeoutMs = FIRST_ANSWER_TIMEOUT_MS): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: Math.ceil(timeoutMs / 1000), onnotice: () => {} });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: 'NO_ANSWER' })), timeoutMs);
  });
  try {
    await Promise.race([sql`select 1`, timedOut]);
  } catch (error) {
    throw explainConnectionFailure(url, error, timeoutMs) ?? error;
  } finally {
    clearTimeout(timer);
    // After a failure the start stops and the process exits: postgres.js leaves a connection whose
    // handshake never ended half-open, and the exit closes it.
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

/** The failure said with the variable and the next step; null for an error that is not about reaching the database. */
export function explainConnectionFailure(url: string, error: unknown, timeoutMs = FIRST_ANSWER_TIMEOUT_MS): DatabaseUnreachableError | null {
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  let target: { host: string; port: string; user: string; database: string };
  try {
    const parsed = new URL(url);
    const user = decodeURIComponent(parsed.username) || 'postgres';
    target = { host: parsed.hostname || 'localhost', port: parsed.port || '5432', user, database: decodeURIComponent(parsed.pathname.slice(1)) || user };
  } catch {
    target = { host: 'localhost', port: '5432', user: 'postgres', database: 'postgres' };
  }
  const { host, port, user, database } = target;
  const said = (text: string) => new DatabaseUnreachableError(`DATABASE_URL=${redactDatabaseUrl(url)}: ${text}`, { cause: error });
  switch (code) {
    case 'ECONNREFUSED':
      return said(
        `nothing accepts connections at ${host}:${port}. Start PostgreSQL there, or fix the host and port (leave DATABASE_URL unset to use the embedded PostgreSQL).`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return said(`the host ${host} could not be resolved (${code}). Fix the host name.`);
    case 'NO_ANSWER':
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return said(
        `no answer from PostgreSQL at ${host}:${port} within ${timeoutMs / 1000} s (${code}). Check that this host and port are PostgreSQL's and that no firewall is in between.`,
      );
    case '3D000':
      return said(`${message}. Create it (createdb -h ${host} -p ${port} -U ${user} ${database}), or name an existing database.`);
    case '28000':
    case '28P01':
      return said(`PostgreSQL refused the login: ${message}. Fix the user or password in DATABASE_URL, or allow them in the server's pg_hba.conf.`);
    case '57P03':
      return said(`${message}. PostgreSQL is starting up or recovering: start vidq again in a moment.`);
    case '53300':
      return said(`${message}. Close other clients of this server, or raise its max_connections.`);
    default:
      return null;
  }
}
