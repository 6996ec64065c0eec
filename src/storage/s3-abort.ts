// Aborting a multipart upload, and what the answer means: gone (aborted now, or completed or aborted
// before: NoSuchUpload), refused for good (a 4xx, or 501 from a server without the operation, such as
// s3rver's 405), or not answered (the network, a 5xx: worth another try).
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeS3Error, isNotFound, statusOf } from './s3-errors';
import type { OpenUpload } from './types';

export type AbortOutcome = { outcome: 'gone' } | { outcome: 'refused' | 'failed'; reason: string };

export async function abortMultipartUpload(client: S3Client, upload: OpenUpload): Promise<AbortOutcome> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId }));
    return { outcome: 'gone' };
  } catch (error) {
    if (isNotFound(error)) return { outcome: 'gone' };
    const status = statusOf(error);
    const refused = status !== undefined && ((status >= 400 && status < 500) || status === 501);
    return { outcome: refused ? 'refused' : 'failed', reason: describeS3Error(error) };
  }
}
