// The journal of open multipart uploads on its own, on a real database: which uploads the sweep may
// abort. A process's death is its lease's session ending (what SIGKILL does); the two-process case
// with a real bucket is in s3-deployment.test.ts.
import { describe, expect, it } from 'vitest';
import { uploadJournal } from '../../src/storage/upload-journal';
import { waitFor } from '../helpers/jobs';
import { databaseWithLeases } from '../helpers/leases';

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
});
