// Credits a user is given (top-ups by an admin or the CLI), and the ledger a user reads to reconcile
// their balance. Job movements (reserve, charge, release) are in jobs/credits.ts; every movement is one
// ledger row written with the balance change.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { type Page, pageQuery, toPage } from '../db/pagination';
import { creditLedger, users } from '../db/schema/index';
import { InvalidInputError } from '../errors/app-errors';

export const MAX_GRANT = 10_000_000;

export interface LedgerEntry {
  id: string;
  userId: string;
  jobId: string | null;
  kind: string;
  amount: number;
  balanceAfter: number;
  note: string | null;
  createdAt: Date;
}

/** Adds `amount` credits to the user, with a GRANT ledger row naming the reason and who granted them. */
export async function grantCredits(db: Db, input: { userId: string; amount: number; reason: string; grantedBy: string }) {
  const fieldErrors = [];
  if (!Number.isInteger(input.amount) || input.amount < 1 || input.amount > MAX_GRANT) {
    fieldErrors.push({ path: ['amount'], message: `must be a whole number of credits from 1 to ${MAX_GRANT}` });
  }
  const reason = input.reason.trim();
  if (!reason || reason.length > 500) fieldErrors.push({ path: ['reason'], message: 'must say why, in 1 to 500 characters' });
  if (fieldErrors.length) throw new InvalidInputError(fieldErrors);
  return db.transaction(async (tx) => {
    const [user] = await tx
      .update(users)
      .set({ credits: sql`${users.credits} + ${input.amount}` })
      .where(eq(users.id, input.userId))
      .returning();
    if (!user) throw new InvalidInputError([{ path: ['userId'], message: `no user '${input.userId}'` }]);
    const [row] = await tx
      .insert(creditLedger)
      .values({ userId: user.id, kind: 'GRANT', amount: input.amount, balanceAfter: user.credits, note: `${reason} (granted by ${input.grantedBy})` })
      .returning();
    return { user, entry: toEntry(row) };
  });
}

function toEntry(row: typeof creditLedger.$inferSelect): LedgerEntry {
  return { ...row, id: String(row.id) };
}

/** A user's ledger, newest first. */
export async function ledgerOf(db: Db, userId: string, args: { first?: number | null; after?: string | null }): Promise<Page<LedgerEntry>> {
  const page = pageQuery(args, { createdAt: creditLedger.createdAt, id: creditLedger.id });
  const rows = await db
    .select()
    .from(creditLedger)
    .where(and(eq(creditLedger.userId, userId), page.where))
    .orderBy(...page.orderBy)
    .limit(page.limit);
  return toPage(rows.map(toEntry), page.limit);
}
