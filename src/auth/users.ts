import { eq } from 'drizzle-orm';
import { pageQuery, toPage } from '../db/pagination';
import type { Db } from '../db/client';
import { newId } from '../db/ids';
import { creditLedger, users } from '../db/schema/index';
import { generateWebhookSecret } from '../webhooks/signing';

export async function createUser(db: Db, input: { name: string; isAdmin?: boolean; credits: number }) {
  return db.transaction(async (tx) => {
    const [user] = await tx
      .insert(users)
      .values({
        id: newId('usr'),
        name: input.name,
        isAdmin: input.isAdmin ?? false,
        credits: input.credits,
        webhookSecret: generateWebhookSecret(),
      })
      .returning();
    if (input.credits > 0) {
      await tx.insert(creditLedger).values({
        userId: user.id,
        kind: 'GRANT',
        amount: input.credits,
        balanceAfter: input.credits,
        note: 'initial credits',
      });
    }
    return user;
  });
}

export async function findUser(db: Db, id: string) {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user ?? null;
}

/** Whether any user exists (a fresh installation has none). */
export async function anyUserExists(db: Db): Promise<boolean> {
  return (await db.select({ id: users.id }).from(users).limit(1)).length > 0;
}

/** Every user, newest first (admins). */
export async function listUsers(db: Db, args: { first?: number | null; after?: string | null }) {
  const page = pageQuery(args, { createdAt: users.createdAt, id: users.id });
  const rows = await db
    .select()
    .from(users)
    .where(page.where)
    .orderBy(...page.orderBy)
    .limit(page.limit);
  return toPage(rows, page.limit);
}
