// vidq serve | migrate | users create | users list | keys create | keys list | keys revoke | credits add | jobs report
// Works whether or not a server is running: it opens the same database the server uses.
import { parseArgs } from 'node:util';
import { desc, eq } from 'drizzle-orm';
import { createApiKey, KEY_PREFIX_LENGTH, keyIdOfSecret, listApiKeys, revokeApiKey } from './auth/keys';
import { grantCredits } from './auth/credits';
import { createUser } from './auth/users';
import { InvalidInputError } from './errors/app-errors';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from './db/open';
import { jobs, users } from './db/schema/index';
import { incidentReport } from './jobs/incident-report';
import { createLogger } from './logger';

const USAGE = `Usage:
  vidq serve [--role all|api|worker]      serve GraphQL and/or run the workers
  vidq migrate                            apply the migrations in drizzle/
  vidq users create --name NAME [--admin] [--credits N] [--json]
  vidq users list [--json]                every user, newest first
  vidq keys create --user USER_ID [--name LABEL] [--json]
  vidq keys list --user USER_ID [--json]  a user's keys: id, first characters, last use, revoked
  vidq keys revoke KEY_ID                 KEY_ID is key_…; the key itself (vq_…) works too
  vidq credits add USER_ID AMOUNT [--reason TEXT] [--json]
  vidq jobs report JOB_ID                 print the job's incident report (JSON) for a support ticket
`;

class UsageError extends Error {}

async function withDatabase<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>['database']['db']) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { cli: true });
  const opened = await openDatabase(config, log);
  try {
    return await fn(opened.database.db);
  } finally {
    await opened.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  if (!command || command === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'serve') {
    const { values } = parseArgs({ args: argv.slice(1), options: { role: { type: 'string' } } });
    if (values.role && !['all', 'api', 'worker'].includes(values.role)) throw new UsageError(`--role must be all, api or worker`);
    // Loaded only here: the server's modules take a second to load, which the other commands need not pay.
    const { serve } = await import('./main');
    return serve({ role: values.role as 'all' | 'api' | 'worker' | undefined });
  }
  if (command === 'migrate') {
    await withDatabase(async () => {});
    console.log('migrations applied');
    return;
  }
  if (command === 'users' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { name: { type: 'string' }, admin: { type: 'boolean' }, credits: { type: 'string' }, json: { type: 'boolean' } },
    });
    if (!values.name?.trim()) throw new UsageError('--name is required');
    if (values.credits !== undefined && !/^\d+$/.test(values.credits.trim())) throw new UsageError('--credits must be a whole number ≥ 0');
    const credits = values.credits === undefined ? loadConfig().defaultUserCredits : Number(values.credits);
    const user = await withDatabase((db) => createUser(db, { name: values.name!.trim(), isAdmin: values.admin, credits }));
    const out = { id: user.id, name: user.name, isAdmin: user.isAdmin, credits: user.credits };
    console.log(values.json ? JSON.stringify(out) : `created user ${out.id} (${out.name}${out.isAdmin ? ', admin' : ''}, ${out.credits} credits)`);
    return;
  }
  if (command === 'users' && sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
    const all = await withDatabase((db) =>
      db
        .select({ id: users.id, name: users.name, isAdmin: users.isAdmin, credits: users.credits, createdAt: users.createdAt, disabledAt: users.disabledAt })
        .from(users)
        .orderBy(desc(users.createdAt), desc(users.id)),
    );
    if (values.json) console.log(JSON.stringify(all));
    else if (!all.length) console.log('no users yet: create one with `vidq users create --name NAME`');
    for (const u of values.json ? [] : all) {
      const flags = [u.isAdmin ? 'admin' : '', u.disabledAt ? 'disabled' : ''].filter(Boolean).join(', ');
      console.log(`${u.id}  ${u.name}${flags ? ` (${flags})` : ''}  ${u.credits} credits  created ${u.createdAt.toISOString()}`);
    }
    return;
  }
  if (command === 'keys' && sub === 'create') {
    const { values } = parseArgs({ args: rest, options: { user: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } } });
    if (!values.user) throw new UsageError('--user is required');
    const key = await withDatabase((db) => createApiKey(db, values.user!, values.name));
    if (values.json) console.log(JSON.stringify({ id: key.id, key: key.key, prefix: key.prefix, userId: key.userId }));
    else console.log(`created key ${key.id} for ${key.userId}\n\n  ${key.key}\n\nStore it now: it is not shown again.`);
    return;
  }
  if (command === 'keys' && sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { user: { type: 'string' }, json: { type: 'boolean' } } });
    if (!values.user) throw new UsageError('--user is required');
    const keys = await withDatabase(async (db) => {
      const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, values.user!));
      if (!user) throw new Error(`No user with id '${values.user}' exists.`);
      return listApiKeys(db, user.id);
    });
    if (values.json) console.log(JSON.stringify(keys));
    else if (!keys.length) console.log(`${values.user} has no keys: create one with \`vidq keys create --user ${values.user}\``);
    for (const k of values.json ? [] : keys) {
      const used = k.lastUsedAt ? `last used ${k.lastUsedAt.toISOString()}` : 'never used';
      const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
      console.log(`${k.id}  ${k.prefix}…${k.name ? `  "${k.name}"` : ''}  created ${k.createdAt.toISOString()}  ${used}  ${state}`);
    }
    return;
  }
  if (command === 'keys' && sub === 'revoke') {
    const given = rest[0];
    if (!given) throw new UsageError('KEY_ID is required');
    // The key itself (vq_…) is revoked too: one may hold a leaked key without having kept its id.
    const bySecret = given.startsWith('vq_');
    const shown = bySecret ? `${given.slice(0, KEY_PREFIX_LENGTH)}…` : given;
    const keyId = await withDatabase(async (db) => {
      const id = bySecret ? await keyIdOfSecret(db, given) : given;
      return id && (await revokeApiKey(db, id)) ? id : null;
    });
    if (!keyId)
      throw new Error(
        `No active key ${bySecret ? shown : `with id '${given}'`} (unknown or already revoked). \`vidq keys list --user USER_ID\` lists a user's keys.`,
      );
    console.log(`revoked ${keyId}${bySecret ? ` (${shown})` : ''}`);
    return;
  }
  if (command === 'credits' && sub === 'add') {
    // parseArgs would take "-5" for an option.
    if (/^-\d/.test(rest[1] ?? '')) throw new UsageError('AMOUNT must be a whole number of credits (credits are added, never taken away here)');
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { reason: { type: 'string' }, json: { type: 'boolean' } } });
    const [userId, amountText] = positionals;
    if (!userId || !amountText) throw new UsageError('USER_ID and AMOUNT are required');
    if (!/^\d+$/.test(amountText)) throw new UsageError('AMOUNT must be a whole number of credits');
    const { user, entry } = await withDatabase((db) =>
      grantCredits(db, { userId, amount: Number(amountText), reason: values.reason ?? 'added with the CLI', grantedBy: 'cli' }),
    ).catch((error) => {
      // The same checks as grantCredits over GraphQL: an unknown user as `keys create` says it, the rest as usage errors.
      if (error instanceof InvalidInputError && error.fieldErrors.every((f) => f.path.join('.') === 'userId')) {
        throw new Error(`No user with id '${userId}' exists.`);
      }
      if (error instanceof InvalidInputError) throw new UsageError(error.fieldErrors.map((f) => `${f.path.join('.')}: ${f.message}`).join('; '));
      throw error;
    });
    const out = { userId: user.id, added: entry.amount, credits: user.credits, ledgerEntryId: entry.id };
    console.log(values.json ? JSON.stringify(out) : `added ${entry.amount} credits to ${user.id}: ${user.credits} now`);
    return;
  }
  if (command === 'jobs' && sub === 'report') {
    const jobId = rest[0];
    if (!jobId) throw new UsageError('JOB_ID is required');
    const report = await withDatabase(async (db) => {
      const [job] = await db.select().from(jobs).where(eq(jobs.id, jobId));
      return job ? incidentReport(db, job) : null;
    });
    if (!report) throw new Error(`No job with id '${jobId}'.`);
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  const subcommands: Record<string, string[]> = { users: ['create', 'list'], keys: ['create', 'list', 'revoke'], credits: ['add'], jobs: ['report'] };
  if (subcommands[command]) throw new UsageError(`Unknown command: ${argv.join(' ')} (${command} takes ${subcommands[command].join(', ')})`);
  throw new UsageError(`Unknown command: ${argv.join(' ')}`);
}

/** node:util parseArgs rejects unknown options and missing values with these codes: bad usage too. */
function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

main(process.argv.slice(2)).catch((error) => {
  if (isParseArgsError(error)) error = new UsageError(error.message);
  // 2: the command line is wrong (with the usage); 1: anything else, a bad setting included, as
  // `serve` exits for the settings it reads first.
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
