// The s3 driver's multipart uploads while they are open (src/storage/upload-journal.ts). A process
// killed mid-put leaves its parts in the bucket, invisible to a listing and billed; this row is how
// another process finds and aborts them once the owner's lease is gone.
import { bigint, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const multipartUploads = pgTable('multipart_uploads', {
  uploadId: text().primaryKey(),
  bucket: text().notNull(),
  /** The object's full key, S3_PREFIX included. */
  objectKey: text().notNull(),
  /** The lease of the process sending it (src/db/process-lease.ts); null once its own abort failed. */
  leaseId: bigint({ mode: 'number' }),
  startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

// Objects whose rows are gone, until they are gone too (src/storage/deletions.ts). A prefix is recorded
// in the transaction that deletes its rows, and removed once the storage deleted it: an outage or a crash
// between the commit and the delete leaves the row here for the maintenance job, not an orphan object.
export const storageDeletions = pgTable('storage_deletions', {
  /** `uploads/<videoId>/` or `outputs/<jobId>/`: ids are never reused, so a late delete is safe. */
  prefix: text().primaryKey(),
  recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  attempts: integer().notNull().default(0),
  lastError: text(),
});

// Resumable uploads that finished on an API process with STORAGE_DRIVER=s3: their bytes moved into the
// bucket (`tus/<id>/data`), so that createVideoFromUpload works on any API process, not only the one
// the upload reached (src/uploads/tus/finished.ts).
export const finishedUploads = pgTable('finished_uploads', {
  id: text().primaryKey(),
  ownerId: text().notNull(),
  filename: text().notNull(),
  sizeBytes: bigint({ mode: 'number' }).notNull(),
  objectKey: text().notNull(),
  /** The upload's creation, for UPLOAD_EXPIRY_HOURS. */
  createdAt: timestamp({ withTimezone: true }).notNull(),
  /**
   * Set while the process that received its last byte puts it into the bucket, then by the
   * createVideoFromUpload that takes it; one claimed long ago is a crashed process's, swept.
   */
  claimedAt: timestamp({ withTimezone: true }),
});
