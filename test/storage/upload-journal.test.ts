// The journal of open multipart uploads on its own, on a real database: which uploads the sweep may
// abort. A process's death is its lease's session ending (what SIGKILL does); the two-process case
// with a real bucket is in s3-deployment.test.ts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config';
import { connectDatabase } from '../../src/db/client';
import { createStorage } from '../../src/storage/index';
import { StorageUnavailableError } from '../../src/storage/types';
import { uploadJournal } from '../../src/storage/upload-journal';
import { waitFor } from '../helpers/jobs';
import { databaseWithLeases } from '../helpers/leases';
import { startS3 } from '../helpers/s3';

const shared = databaseWithLeases();

async function processWithJournal(name: string) {
  const lease = await shared.takeLease(name);
  return { lease, journal: uploadJournal(shared.db(), lease) };
}

const upload = (n: number) => ({ bucket: 'b', key: `uploads/vid_${n}/source.mkv`, uploadId: `up-${n}` });
const orphanIds = async (journal: ReturnType<typeof uploadJournal>) => (await journal.orphans()).map((u) => u.uploadId).sort();

describe('the journal of open multipart uploads', () => {
  it('hands the sweep the uploads of a process that died and those abandoned, never a live one', async () => {
    const alive = await processWithJournal('vidq-test-journal-alive');
    const dying = await processWithJournal('vidq-test-journal-dying');
    await alive.journal.opened(upload(1));
    await alive.journal.opened(upload(2));
    await alive.journal.opened(upload(3));
    await dying.journal.opened(upload(4));
    expect(await orphanIds(alive.journal)).toEqual([]);

    await alive.journal.abandoned('up-2'); // its own abort failed
    await alive.journal.closed('up-3'); // completed
    await dying.lease.close(); // its session ends
    expect(await orphanIds(alive.journal)).toEqual(['up-2', 'up-4']);
    expect(await alive.journal.orphans()).toContainEqual(upload(4));
    await alive.journal.closed('up-2');
    await alive.journal.closed('up-4');
    expect(await orphanIds(alive.journal)).toEqual([]);
    await alive.journal.closed('up-1');
  });

  it('moves a process’s open uploads to its new lease when it takes one again after losing it', async () => {
    const p = await processWithJournal('vidq-test-journal-renewed');
    await p.journal.opened(upload(5));
    const before = p.lease.id;
    await shared.db().sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'vidq-test-journal-renewed'`;
    await waitFor('the lease taken again', async () => p.lease.id !== before && (await p.lease.key()) !== before);
    await waitFor('the row moved to the new lease', async () => {
      const [row] = await shared.db().sql<{ lease_id: string }[]>`select lease_id from multipart_uploads where upload_id = 'up-5'`;
      return Number(row!.lease_id) === p.lease.id;
    });
    expect(await orphanIds(p.journal)).toEqual([]);
  });

  it('aborts a multipart upload it cannot record, before any part is sent, and fails the put', async () => {
    const s3 = await startS3();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-journal-'));
    const storage = await createStorage(loadConfig({ DATA_DIR: dir, ...s3.env() }));
    onTestFinished(async () => {
      storage.close();
      await s3.close();
      await fs.rm(dir, { recursive: true, force: true });
    });
    const gone = connectDatabase(shared.url(), { max: 1 });
    await gone.close(); // the database cannot be written: the journal's insert fails
    storage.recordUploadsIn(uploadJournal(gone, await shared.takeLease('vidq-test-journal-unwritable')));
    const file = path.join(dir, 'big.bin');
    await fs.writeFile(file, Buffer.alloc(20 * 1024 * 1024, 1)); // more than one 8 MB part: a multipart upload

    await expect(storage.putFile('outputs/job_unrecorded/big.bin', file)).rejects.toThrow(StorageUnavailableError);
    const toKey = s3.requests.filter((r) => r.url.startsWith(`/${s3.bucket}/outputs/job_unrecorded/big.bin?`));
    const query = (r: { url: string }) => new URLSearchParams(r.url.split('?')[1]);
    expect(toKey.filter((r) => r.method === 'POST' && query(r).has('uploads'))).toHaveLength(1); // created
    expect(toKey.filter((r) => r.method === 'PUT')).toEqual([]); // no part sent
    expect(toKey.filter((r) => r.method === 'DELETE' && query(r).get('uploadId')).map((r) => r.status)).toEqual([204]); // aborted
    expect(await s3.openUploads()).toEqual([]);
    expect(await s3.keys('outputs/')).toEqual([]);
  });
});
