// Helpers for the limits tests: a job row whose events a test appends itself (no worker, no ffmpeg),
// so that a live subscription has something to deliver.
import { newId } from '../../src/db/ids';
import type { Database } from '../../src/db/client';
import { jobs, videos } from '../../src/db/schema/index';
import { appendJobEvent } from '../../src/jobs/events';

/** A PROCESSING job of `ownerId`, as a worker would have left it; `progress()` commits one more event. */
export async function seedRunningJob(database: Database, ownerId: string) {
  const db = database.db;
  const [video] = await db
    .insert(videos)
    .values({
      id: newId('vid'), ownerId, filename: 'clip.mp4', format: 'mp4', contentType: 'video/mp4', sizeBytes: 1, sha256: '-', storagePath: 'uploads/none.mp4',
      metadata: { durationSeconds: 1, width: 64, height: 64, videoCodec: 'h264', audioCodec: null, frameRate: 25, bitRate: 1 },
    })
    .returning();
  const jobId = newId('job');
  await db.insert(jobs).values({ id: jobId, videoId: video.id, ownerId, status: 'PROCESSING', stage: 'transcode', attempt: 1, maxAttempts: 4, options: { model: 'FAST', outputFormat: 'MP4', background: null }, timeoutSeconds: 3600 });
  let progress = 0;
  return {
    jobId,
    /** Commits a PROGRESS event (row and NOTIFY in one transaction, as a worker does); returns its sequence. */
    async progress(): Promise<number> {
      progress = Math.min(0.99, progress + 0.01);
      const row = await db.transaction((tx) => appendJobEvent(tx, jobId, { type: 'PROGRESS', status: 'PROCESSING', progress, stage: 'transcode', data: {} }));
      return row.sequence;
    },
  };
}

/** `count` aliased fields: one more than graphql-armor's 30 aliases is refused. */
export function aliasedQuery(count: number) {
  return `query Many { ${Array.from({ length: count }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
}

/** Within the alias, depth and token limits, over the cost limit (20,000): 2,000 fields, ten deep. */
export function costlyQuery() {
  let selection = 'name';
  for (let i = 0; i < 10; i++) selection = `${Array(200).fill('name').join(' ')} ofType { ${selection} }`;
  return `query Costly { __type(name: "Query") { ${selection} } }`;
}

/** Nested selections `depth` deep (introspection types nest without end). */
export function deepQuery(depth: number) {
  let selection = 'name';
  for (let i = 0; i < depth; i++) selection = `ofType { ${selection} }`;
  return `query Deep { __type(name: "Query") { fields { type { ${selection} } } } }`;
}

/** More tokens than graphql-armor's 5,000 (a parse error). */
export function longQuery(tokens: number) {
  return `query Long { ${Array.from({ length: tokens }, () => '__typename').join(' ')} }`;
}
