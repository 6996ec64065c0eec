// Rows that tests and benches need without going through an upload: a video whose file nobody reads
// (a job's events are appended by hand, or the file is put in place by the caller).
import type { Db } from '../../src/db/client';
import { newId } from '../../src/db/ids';
import { jobs, type VideoRow, videos } from '../../src/db/schema/index';
import type { VideoMetadata } from '../../src/pipeline/types';

export async function insertVideoRow(
  db: Db,
  ownerId: string,
  overrides: { storagePath?: string; filename?: string; metadata?: Partial<VideoMetadata> } = {},
): Promise<VideoRow> {
  const [video] = await db
    .insert(videos)
    .values({
      id: newId('vid'),
      ownerId,
      filename: overrides.filename ?? 'clip.mp4',
      format: 'mp4',
      contentType: 'video/mp4',
      sizeBytes: 1,
      sha256: '-',
      storagePath: overrides.storagePath ?? 'uploads/none.mp4',
      metadata: {
        durationSeconds: 1,
        width: 320,
        height: 240,
        videoCodec: 'h264',
        audioCodec: null,
        frameRate: 25,
        bitRate: 1,
        hasAudio: false,
        formatName: 'mov,mp4',
        ...overrides.metadata,
      },
    })
    .returning();
  return video;
}

/**
 * A job row with no queue job and no stages: PROCESSING (at transcode, attempt 1) as a worker would
 * have left it — its events are appended by the test — or COMPLETED, for files put in place by hand.
 */
export async function insertJobRow(
  db: Db,
  ownerId: string,
  videoId: string,
  fields: { status: 'PROCESSING' | 'COMPLETED'; outputFormat?: 'MP4' | 'WEBM' },
): Promise<string> {
  const id = newId('job');
  const running = fields.status === 'PROCESSING';
  await db.insert(jobs).values({
    id,
    videoId,
    ownerId,
    status: fields.status,
    stage: running ? 'transcode' : null,
    attempt: running ? 1 : 0,
    maxAttempts: running ? 4 : 1,
    options: { model: 'FAST', outputFormat: fields.outputFormat ?? 'MP4', background: null },
    timeoutSeconds: running ? 3600 : 60,
  });
  return id;
}
