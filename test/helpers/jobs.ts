// Test helpers for jobs: a source video in place (as an upload would leave it) and waiting for states.
import fs from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { newId } from '../../src/db/ids';
import { jobEvents, jobs, videos } from '../../src/db/schema/index';
import { probeVideo } from '../../src/pipeline/index';
import type { TestApp, TestUser } from './app';
import { gql } from './graphql';
import { binaries } from './media';

/** Stores `file` as a video of `ownerId`, exactly where and how uploadVideo stores one. */
export async function seedVideo(app: TestApp, ownerId: string, file: string) {
  const id = newId('vid');
  const ext = path.extname(file).slice(1);
  const storagePath = path.join('uploads', id, `source.${ext}`);
  await fs.mkdir(path.join(app.dataDir, 'uploads', id), { recursive: true });
  await fs.copyFile(file, path.join(app.dataDir, storagePath));
  const metadata = await probeVideo(file, { ffprobe: binaries.ffprobe });
  const { size } = await fs.stat(file);
  const [row] = await app.services.database.db
    .insert(videos)
    .values({
      id,
      ownerId,
      filename: path.basename(file),
      format: ext,
      contentType: `video/${ext}`,
      sizeBytes: size,
      sha256: 'test',
      storagePath,
      metadata: { ...metadata, bitRate: metadata.bitRate ?? 0 },
    })
    .returning();
  return row;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function waitForStatus(app: TestApp, jobId: string, statuses: string[], timeoutMs = 90_000) {
  return waitFor(
    `job ${jobId} to reach ${statuses.join('/')}`,
    async () => {
      const [job] = await app.services.database.db.select().from(jobs).where(eq(jobs.id, jobId));
      return job && statuses.includes(job.status) ? job : null;
    },
    timeoutMs,
  );
}

export async function waitForEvent(app: TestApp, jobId: string, match: (e: typeof jobEvents.$inferSelect) => boolean, timeoutMs = 60_000) {
  return waitFor(
    `an event of job ${jobId}`,
    async () => {
      const rows = await app.services.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId));
      return rows.find(match) ?? null;
    },
    timeoutMs,
  );
}

export async function eventsOfJob(app: TestApp, jobId: string) {
  const rows = await app.services.database.db.select().from(jobEvents).where(eq(jobEvents.jobId, jobId));
  return rows.sort((a, b) => a.sequence - b.sequence);
}

export const SUBMIT = `mutation Submit($input: SubmitJobInput!) {
  submitJob(input: $input) {
    __typename
    ... on SubmitJobSuccess { job { id status costCredits attempt maxAttempts } }
    ... on Error { code message detail retryable }
    ... on JobAlreadyProcessingError { jobId videoId }
    ... on InsufficientCreditsError { required available }
    ... on InvalidInputError { fieldErrors { path message } }
  }
}`;

/** Seeds `file` as a video of `user` and submits a FAST job for it through the API; the job's id. */
export async function submitClip(app: TestApp, user: TestUser, file: string): Promise<string> {
  const video = await seedVideo(app, user.id, file);
  const res = await gql(app.url, user.key, SUBMIT, { input: { videoId: video.id, model: 'FAST' } });
  if (res.body.data?.submitJob?.__typename !== 'SubmitJobSuccess') throw new Error(`submitJob failed: ${JSON.stringify(res.body)}`);
  return res.body.data.submitJob.job.id as string;
}

/** Where a job's output files are with local storage (DATA_DIR/outputs/<jobId>). */
export function jobOutputDir(app: Pick<TestApp, 'dataDir'>, jobId: string): string {
  return path.join(app.dataDir, 'outputs', jobId);
}
