// Accounts, their API keys and their credit ledger.
import { bigserial, boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const users = pgTable('users', {
  id: text().primaryKey(), // usr_…
  name: text().notNull(),
  isAdmin: boolean().notNull().default(false),
  /** Credits available now: grants minus reservations and charges. Changed only with a ledger row. */
  credits: integer().notNull().default(0),
  /** Signs webhooks sent to a job's own webhookUrl (endpoints have their own secrets). */
  webhookSecret: text().notNull(),
  previousWebhookSecret: text(),
  previousWebhookSecretExpiresAt: timestamp({ withTimezone: true }),
  disabledAt: timestamp({ withTimezone: true }),
  createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text().primaryKey(), // key_…
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The first characters of the key, shown in listings so a user can tell keys apart. */
    prefix: text().notNull(),
    /** SHA-256 of the whole key: the key itself is never stored. */
    keyHash: text().notNull().unique(),
    name: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp({ withTimezone: true }),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index('api_keys_user_idx').on(t.userId)],
);

/** Every movement of credits, so a balance can always be explained. */
export const creditLedger = pgTable(
  'credit_ledger',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    jobId: text(),
    /** GRANT, RESERVE (job submitted), RELEASE (job failed/cancelled/timed out), CHARGE (settled). */
    kind: text().notNull(),
    /** Signed change of users.credits. */
    amount: integer().notNull(),
    balanceAfter: integer().notNull(),
    note: text(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('credit_ledger_user_idx').on(t.userId), index('credit_ledger_job_idx').on(t.jobId)],
);

export type UserRow = typeof users.$inferSelect;
