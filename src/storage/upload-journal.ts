// The journal of open multipart uploads, in PostgreSQL (multipart_uploads), and the sweep that aborts
// those of processes that are gone. A process killed mid-put (an API process receiving an upload, a
// worker putting a stage's files) leaves parts in the bucket that no listing of objects shows and that
// the bucket bills until they are aborted. Each row carries the lease of the process sending it
// (src/db/process-lease.ts), so a dead owner is told by its lock being gone, with no heartbeat. The
// sweep runs with the maintenance job; a bucket lifecycle rule (AbortIncompleteMultipartUpload) remains
// the backstop for a database restored from before a put.
import { eq, or, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { leaseHeldSql, type ProcessLease } from '../db/process-lease';
import { multipartUploads } from '../db/schema/index';
import { metrics } from '../metrics/index';
import type { Services } from '../services';
import type { OpenUpload, UploadJournal } from './types';

export function uploadJournal(database: Database, lease: ProcessLease): UploadJournal {
  const { db } = database;
  // A lease lost with its connection is taken again under a new id: this process's open uploads move
  // to it, or the sweep would take them for a dead process's. (Until the move, it may: the put then
  // fails at its next part and is answered as a storage outage, retryable.)
  lease.onRenewed((previousId) => {
    void db
      .update(multipartUploads)
      .set({ leaseId: lease.id })
      .where(eq(multipartUploads.leaseId, previousId))
      .catch(() => {});
  });
  return {
    async opened(upload) {
      await db.insert(multipartUploads).values({ uploadId: upload.uploadId, bucket: upload.bucket, objectKey: upload.key, leaseId: await lease.key() });
    },
    async closed(uploadId) {
      await db.delete(multipartUploads).where(eq(multipartUploads.uploadId, uploadId));
    },
    async abandoned(uploadId) {
      await db.update(multipartUploads).set({ leaseId: null }).where(eq(multipartUploads.uploadId, uploadId));
    },
    async orphans(): Promise<OpenUpload[]> {
      const rows = await db
        .select()
        .from(multipartUploads)
        .where(or(isNull(multipartUploads.leaseId), sql.raw(`not (${leaseHeldSql('lease_id')})`)));
      return rows.map((row) => ({ bucket: row.bucket, key: row.objectKey, uploadId: row.uploadId }));
    },
  };
}

/**
 * The maintenance job's part: aborts abandoned multipart uploads, counts what it got
 * (vidq_storage_abandoned_uploads_total{outcome}) and logs what it could not abort.
 */
export async function abortAbandonedUploads(services: Pick<Services, 'storage' | 'log'>): Promise<void> {
  const { storage, log } = services;
  const sweep = await storage.abortAbandonedUploads();
  metrics.abandonedUploads.inc({ outcome: 'aborted' }, sweep.aborted.length);
  metrics.abandonedUploads.inc({ outcome: 'refused' }, sweep.refused.length);
  metrics.abandonedUploads.inc({ outcome: 'failed' }, sweep.failed.length);
  // `objectKey`, not `key`: the logger redacts fields named key (API keys).
  const fields = (upload: OpenUpload) => ({ bucket: upload.bucket, objectKey: upload.key, uploadId: upload.uploadId });
  if (sweep.aborted.length) log.info({ uploads: sweep.aborted.map(fields) }, 'aborted multipart uploads left open by processes that are gone');
  for (const upload of sweep.refused) {
    log.error(
      { ...fields(upload), reason: upload.reason },
      `the bucket refused to abort multipart upload ${upload.uploadId} of ${upload.key} (${upload.reason}): its parts stay until a lifecycle rule (AbortIncompleteMultipartUpload) removes them`,
    );
  }
  if (sweep.failed.length) {
    const uploads = sweep.failed.map((upload) => ({ ...fields(upload), reason: upload.reason }));
    log.warn({ uploads }, 'could not reach the bucket to abort abandoned multipart uploads: trying again at the next maintenance run');
  }
}
