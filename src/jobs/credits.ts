// Credit movements for a job. Each one changes users.credits and writes a ledger row in the same
// transaction: reserved at submit, charged on completion, released on failure, timeout or cancel.
import { and, eq, gte, sql } from 'drizzle-orm';
import { creditLedger, users } from '../db/schema/index';
import { InsufficientCreditsError } from '../errors/app-errors';
import type { DbOrTx } from '../db/client';

async function move(tx: DbOrTx, userId: string, jobId: string, kind: string, amount: number, note: string) {
  const [user] = await tx
    .update(users)
    .set({ credits: sql`${users.credits} + ${amount}` })
    .where(eq(users.id, userId))
    .returning({ credits: users.credits });
  await tx.insert(creditLedger).values({ userId, jobId, kind, amount, balanceAfter: user.credits, note });
  return user.credits;
}

/**
 * Takes the job's cost off the available credits in one guarded UPDATE (it locks the user row), or
 * refuses with the amounts. Returns the balance after, for the ledger row (recordReservation), which
 * the caller writes together with the job's other rows.
 */
export async function reserveCredits(tx: DbOrTx, userId: string, cost: number): Promise<number> {
  const [user] = await tx
    .update(users)
    .set({ credits: sql`${users.credits} - ${cost}` })
    .where(and(eq(users.id, userId), gte(users.credits, cost)))
    .returning({ credits: users.credits });
  if (user) return user.credits;
  const [current] = await tx.select({ credits: users.credits }).from(users).where(eq(users.id, userId));
  throw new InsufficientCreditsError(cost, current?.credits ?? 0);
}

export async function recordReservation(tx: DbOrTx, userId: string, jobId: string, cost: number, balanceAfter: number) {
  await tx.insert(creditLedger).values({ userId, jobId, kind: 'RESERVE', amount: -cost, balanceAfter, note: `reserved ${cost} credits` });
}

/** The reservation becomes a charge: no change to the balance, one ledger row for the record. */
export async function chargeCredits(tx: DbOrTx, userId: string, jobId: string, cost: number) {
  return move(tx, userId, jobId, 'CHARGE', 0, `charged ${cost} reserved credits`);
}

export async function releaseCredits(tx: DbOrTx, userId: string, jobId: string, cost: number, why: string) {
  return move(tx, userId, jobId, 'RELEASE', cost, `released ${cost} credits: ${why}`);
}
