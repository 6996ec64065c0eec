// Rows that tests and benches need without going through an upload: a video whose file nobody reads
// (a job's events are appended by hand, or the file is put in place by the caller).
import type { Db } from '../../src/db/client';
import { newId } from '../../src/db/ids';
import { type VideoRow, videos } from '../../src/db/schema/index';
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
