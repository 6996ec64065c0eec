// API keys: generated once, shown once, stored only as a SHA-256 hash with a short visible prefix.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { newId } from '../db/ids';
import { apiKeys, users } from '../db/schema/index';

export const KEY_PREFIX_LENGTH = 10; // "vq_" + 7 characters, enough to tell keys apart in a list

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return `vq_${randomBytes(24).toString('base64url')}`;
}

export async function createApiKey(db: Db, userId: string, name?: string) {
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  if (!user) throw new Error(`No user with id '${userId}' exists.`);
  const key = generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({ id: newId('key'), userId, prefix: key.slice(0, KEY_PREFIX_LENGTH), keyHash: hashApiKey(key), name })
    .returning();
  return { id: row.id, key, prefix: row.prefix, userId, createdAt: row.createdAt };
}

/** Revokes a key at once: the next request (HTTP or WebSocket operation) with it is refused. */
export async function revokeApiKey(db: Db, keyId: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

export interface KeyOwner {
  keyId: string;
  userId: string;
  name: string;
  isAdmin: boolean;
  lastUsedAt: Date | null;
}

/** The active key and its user, or null when the key is unknown, revoked or its user disabled. */
export async function findActiveKey(db: Db, key: string): Promise<KeyOwner | null> {
  const [row] = await db
    .select({
      keyId: apiKeys.id,
      userId: users.id,
      name: users.name,
      isAdmin: users.isAdmin,
      lastUsedAt: apiKeys.lastUsedAt,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(and(eq(apiKeys.keyHash, hashApiKey(key)), isNull(apiKeys.revokedAt), isNull(users.disabledAt)));
  return row ?? null;
}

/** Records use, at most once a minute per key, so that auth stays one read on the hot path. */
export async function touchKey(db: Db, owner: KeyOwner): Promise<void> {
  if (owner.lastUsedAt && Date.now() - owner.lastUsedAt.getTime() < 60_000) return;
  await db.update(apiKeys).set({ lastUsedAt: sql`now()` }).where(eq(apiKeys.id, owner.keyId));
}
