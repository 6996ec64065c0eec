import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { removeExpiredJobs } from '../../src/jobs/retention';
import { runMaintenance } from '../../src/maintenance';
import { startTestApp, type TestApp } from '../helpers/app';
import { gql } from '../helpers/graphql';
import { jobOutputDir, seedVideo, SUBMIT } from '../helpers/jobs';
import { makeVideo } from '../helpers/media';

let app: TestApp;
let mediaDir: string;

beforeAll(async () => {
  mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vidq-media-'));
  app = await startTestApp({ env: { JOB_RETENTION_HOURS: '24', ROLE: 'api' } });
});
afterAll(async () => {
  await app?.close();
  await fs.rm(mediaDir, { recursive: true, force: true });
});

describe('retention of finished jobs', () => {
  it('removes jobs finished longer ago than JOB_RETENTION_HOURS with their files, and keeps the others', async () => {
    const clip = await makeVideo(mediaDir, { format: 'mp4', seconds: 1 });
    const user = await app.createUser({ credits: 50 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const video = await seedVideo(app, user.id, clip);
      ids.push((await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } })).body.data.submitJob.job.id);
    }
    const [old, recent, active] = ids;
    const sql = app.services.database.sql;
    // Backdated instead of waiting a day:
    await sql`update jobs set status = 'COMPLETED', finished_at = now() - interval '25 hours', created_at = now() - interval '26 hours' where id = ${old}`;
    await sql`update jobs set status = 'FAILED', finished_at = now() - interval '23 hours' where id = ${recent}`;
    await sql`update jobs set created_at = now() - interval '30 days' where id = ${active}`;
    for (const id of ids) {
      await fs.mkdir(jobOutputDir(app, id), { recursive: true });
      await fs.writeFile(path.join(jobOutputDir(app, id), 'poster.jpg'), 'x');
    }

    expect(await removeExpiredJobs(app.services)).toEqual([old]);
    const q = `query($id: ID!) { job(id: $id) { __typename } }`;
    expect((await gql(app.url, user.key, q, { id: old })).body.data.job.__typename).toBe('JobNotFoundError');
    expect((await gql(app.url, user.key, q, { id: recent })).body.data.job.__typename).toBe('Job');
    expect((await gql(app.url, user.key, q, { id: active })).body.data.job.__typename).toBe('Job');
    await expect(fs.stat(jobOutputDir(app, old))).rejects.toThrow();
    await expect(fs.stat(jobOutputDir(app, recent))).resolves.toBeTruthy();
    expect((await sql`select count(*)::int as n from job_events where job_id = ${old}`)[0].n).toBe(0);
  });
});

describe('the maintenance run', () => {
  it('runs every step when one fails, and logs the failed one by name', async () => {
    const lines: Array<{ level: number; msg: string; step?: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    // An object whose delete an earlier outage left recorded, over a minute ago.
    const prefix = 'outputs/job_leftover/';
    const file = path.join(app.config.dataDir, prefix, 'poster.jpg');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, 'x');
    const sql = app.services.database.sql;
    await sql`insert into storage_deletions (prefix, recorded_at) values (${prefix}, now() - interval '2 minutes')`;
    // The first step's table is away (locked out, renamed by a botched migration…).
    await sql`alter table jobs rename to jobs_away`;
    let failed: string[];
    try {
      failed = await runMaintenance({ ...app.services, log });
    } finally {
      await sql`alter table jobs_away rename to jobs`;
    }
    expect(failed).toEqual(['removing expired jobs', 'handing on stranded jobs']); // both read the jobs table
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        step: 'removing expired jobs',
        msg: 'maintenance: removing expired jobs failed; the other steps ran, and the next run (within 5 min) tries it again',
      }),
    );
    // The steps after them still ran: the leftover is gone, and so is its record.
    await expect(fs.stat(file)).rejects.toThrow();
    expect(await sql`select prefix from storage_deletions where prefix = ${prefix}`).toEqual([]);
    expect(await runMaintenance({ ...app.services, log })).toEqual([]);
  });
});
