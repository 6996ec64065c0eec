// Cluster-wide limits (src/limits/): counted slots for long-lived or heavy requests, and failed
// authentications per client address. Both are shared by every API process.
import { integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Slots in use per kind (ws, sse, upload) and API key, across every API process. `n` is the total the
 * cap is checked against; `holders` splits it by the process lease that holds them ({"<lease id>": n}),
 * so that the share of a process that died (its lease, a session advisory lock, gone with it) can be
 * taken out again.
 */
export const limitSlots = pgTable(
  'limit_slots',
  {
    kind: text().notNull(),
    keyId: text().notNull(),
    n: integer().notNull(),
    holders: jsonb().$type<Record<string, number>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.keyId] })],
);

/** Failed authentications (wrong API keys) per client address in the current window. */
export const authFailures = pgTable('auth_failures', {
  address: text().primaryKey(),
  windowStartedAt: timestamp({ withTimezone: true }).notNull(),
  failures: integer().notNull(),
});
