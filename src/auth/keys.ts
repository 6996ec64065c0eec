// API keys: generated once, shown once, stored only as a SHA-256 hash with a short visible prefix.
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { newId } from '../db/ids';
import { apiKeys, users } from '../db/schema/index';

/** NOTIFY channel on which a revoked key's id is announced. */
export const API_KEYS_CHANNEL = 'vidq_api_keys';

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

/** Revokes a key at once: the next request with it is refused, and its open subscriptions are closed. */
export async function revokeApiKey(db: Db, keyId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id });
    // Open WebSockets and SSE streams on that key are closed at once by every API process.
    if (rows.length) await tx.execute(sql`select pg_notify(${API_KEYS_CHANNEL}, ${keyId})`);
    return rows.length > 0;
  });
}

/** The id of the key whose secret this is (revoked or not), or null: revoking a key one holds but whose id was not kept. */
export async function keyIdOfSecret(db: Db, key: string): Promise<string | null> {
  const [row] = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, hashApiKey(key)));
  return row?.id ?? null;
}

/** A user's keys, newest first, as a listing shows them (never the secret, which is not stored). */
export async function listApiKeys(db: Db, userId: string) {
  return db
    .select({
      id: apiKeys.id,
      prefix: apiKeys.prefix,
      name: apiKeys.name,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.userId, userId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

export interface KeyOwner {
  keyId: string;
  userId: string;
  name: string;
  isAdmin: boolean;
  lastUsedAt: Date | null;
  /** The key's user as read by the same query, so that a request needs no second read of it. */
  user: typeof users.$inferSelect;
}

/**
 * The lookup every request makes. Requests that arrive together share one round trip: lookups asked
 * for in the same turn of the event loop are answered by one prepared query. Each request still reads
 * the database after it arrived, so a revoked key stops working at once; under load this saves most of
 * the per-query cost (BENCHMARKS.md, GraphQL). Building the query with drizzle's builder on every call
 * would cost ~0.3 ms of CPU, so it is prepared once per database handle.
 */
function prepareActiveKeysQuery(db: Db) {
  return db
    .select({ keyHash: apiKeys.keyHash, keyId: apiKeys.id, lastUsedAt: apiKeys.lastUsedAt, user: users })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(and(sql`${apiKeys.keyHash} = any(${sql.placeholder('keyHashes')})`, isNull(apiKeys.revokedAt), isNull(users.disabledAt)))
    .prepare('vidq_find_active_keys');
}

type ActiveKeyRow = Awaited<ReturnType<ReturnType<typeof prepareActiveKeysQuery>['execute']>>[number];

class KeyLookupBatch {
  private readonly query: ReturnType<typeof prepareActiveKeysQuery>;
  private waiting = new Map<string, Array<{ resolve: (row: ActiveKeyRow | null) => void; reject: (error: unknown) => void }>>();

  constructor(db: Db) {
    this.query = prepareActiveKeysQuery(db);
  }

  lookup(keyHash: string): Promise<ActiveKeyRow | null> {
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) setImmediate(() => void this.flush());
      const list = this.waiting.get(keyHash) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(keyHash, list);
    });
  }

  private async flush() {
    const batch = this.waiting;
    this.waiting = new Map();
    try {
      const rows = await this.query.execute({ keyHashes: [...batch.keys()] });
      const byHash = new Map(rows.map((r) => [r.keyHash, r]));
      for (const [hash, list] of batch) for (const w of list) w.resolve(byHash.get(hash) ?? null);
    } catch (error) {
      for (const list of batch.values()) for (const w of list) w.reject(error);
    }
  }
}

const lookupBatches = new WeakMap<Db, KeyLookupBatch>();

/** The active key and its user, or null when the key is unknown, revoked or its user disabled. */
export async function findActiveKey(db: Db, key: string): Promise<KeyOwner | null> {
  let batch = lookupBatches.get(db);
  if (!batch) lookupBatches.set(db, (batch = new KeyLookupBatch(db)));
  const row = await batch.lookup(hashApiKey(key));
  if (!row) return null;
  const { user } = row;
  return { keyId: row.keyId, lastUsedAt: row.lastUsedAt, userId: user.id, name: user.name, isAdmin: user.isAdmin, user };
}

/**
 * Which of `keyIds` still authenticate (not revoked, user not disabled), read in batches of 1,000: the
 * safety net behind the revocation NOTIFY (open sockets every WS_KEY_RECHECK_SECONDS, watched keys after
 * a LISTEN reconnect).
 */
export async function activeKeyIds(db: Db, keyIds: readonly string[]): Promise<Set<string>> {
  const active = new Set<string>();
  for (let i = 0; i < keyIds.length; i += 1000) {
    const rows = await db
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(inArray(apiKeys.id, keyIds.slice(i, i + 1000)), isNull(apiKeys.revokedAt), isNull(users.disabledAt)));
    for (const row of rows) active.add(row.id);
  }
  return active;
}

/**
 * Why a key was refused, for a message that helps (only on the failure path: one extra read): revoked,
 * its user disabled, or unknown (never issued, or mistyped).
 */
export async function whyKeyRefused(db: Db, key: string): Promise<'revoked' | 'user disabled' | 'unknown'> {
  const [row] = await db
    .select({ revokedAt: apiKeys.revokedAt, disabledAt: users.disabledAt })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.keyHash, hashApiKey(key)));
  if (!row) return 'unknown';
  return row.revokedAt ? 'revoked' : row.disabledAt ? 'user disabled' : 'unknown';
}

/** Records use, at most once a minute per key, so that auth stays one read on the hot path. */
export async function touchKey(db: Db, owner: KeyOwner): Promise<void> {
  if (owner.lastUsedAt && Date.now() - owner.lastUsedAt.getTime() < 60_000) return;
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(eq(apiKeys.id, owner.keyId));
}
