// Uploaded source videos.
import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { users } from './users';

import type { VideoMetadata } from '../../pipeline/types';

export const videos = pgTable(
  'videos',
  {
    id: text().primaryKey(), // vid_…
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The client's filename, sanitized: display only, never used as a path. */
    filename: text().notNull(),
    title: text(),
    format: text().notNull(), // mp4 | mov | avi | mkv | webm
    contentType: text().notNull(),
    sizeBytes: bigint({ mode: 'number' }).notNull(),
    sha256: text().notNull(),
    /** Path relative to DATA_DIR. */
    storagePath: text().notNull(),
    metadata: jsonb().$type<VideoMetadata>().notNull(),
    recordedAt: timestamp({ withTimezone: true }),
    idempotencyKey: text(),
    createdAt: timestamp({ withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('videos_owner_created_idx').on(t.ownerId, t.createdAt), uniqueIndex('videos_owner_idempotency_idx').on(t.ownerId, t.idempotencyKey)],
);

export type VideoRow = typeof videos.$inferSelect;
