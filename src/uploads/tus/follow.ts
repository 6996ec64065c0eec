// s3: a resumable upload goes into the bucket while its PATCHes arrive, part by part as the file on this
// process's disk grows past each 8 MB part (Storage.followFile, as uploadVideo does with its temp file).
// When the last byte comes only the last part and the completion are left, so the last PATCH is answered
// soon after it instead of after a put of the whole file (finished.ts records it then).
//
// A follower is given up, its multipart upload aborted, when its upload pauses for IDLE_MS (its part
// buffers are not held for a client that may never come back), is terminated, or this process stops.
// The next PATCH starts a new one from the file's first byte; one never started (a process restarted
// mid-upload) leaves the whole put to the last byte, as before. A process that dies leaves its open
// multipart upload to the journal's sweep (storage/upload-journal.ts).
import { stat } from 'node:fs/promises';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { finishedUploadKey } from '../../storage/keys';
import type { FollowedFile, Storage } from '../../storage/types';
import { isUploadId, tusUploadFile } from './store';

/** A pause longer than this gives the follower up. */
const IDLE_MS = 60_000;
/**
 * At most this many uploads followed at once on one process, each holding up to two 8 MB part buffers;
 * past it an upload is put whole at its last byte.
 */
const MAX_FOLLOWED = 16;

interface Followed {
  file: FollowedFile;
  idle: NodeJS.Timeout;
}

export class UploadFollowers {
  private readonly followed = new Map<string, Followed>();
  /** Uploads whose last byte came: a late progress event must not start them again. */
  private readonly finished = new Set<string>();
  private closed = false;

  constructor(
    private readonly deps: { config: Pick<Config, 'dataDir'>; storage: Storage; log: Logger },
    private readonly limits = { idleMs: IDLE_MS, maxFollowed: MAX_FOLLOWED },
  ) {}

  /** Bytes of upload `id` arrived: what is on disk now is sent as whole parts. */
  async received(id: string): Promise<void> {
    if (this.deps.storage.driver !== 's3' || this.closed || this.finished.has(id) || !isUploadId(id)) return;
    const size = (await stat(tusUploadFile(this.deps.config, id)).catch(() => null))?.size;
    if (size === undefined || this.closed || this.finished.has(id)) return;
    let entry = this.followed.get(id);
    if (!entry) {
      if (this.followed.size >= this.limits.maxFollowed) return;
      const file = this.deps.storage.followFile(finishedUploadKey(id), tusUploadFile(this.deps.config, id), { contentType: 'application/octet-stream' });
      if (!file) return;
      entry = { file, idle: this.idleTimer(id) };
      this.followed.set(id, entry);
    } else entry.idle.refresh();
    entry.file.grow(size);
  }

  /** The upload's last byte came: its follower, if it has one, for the caller to end. */
  take(id: string): FollowedFile | null {
    this.finished.add(id);
    setTimeout(() => this.finished.delete(id), this.limits.idleMs).unref();
    const entry = this.followed.get(id);
    if (!entry) return null;
    clearTimeout(entry.idle);
    this.followed.delete(id);
    return entry.file;
  }

  /** Gives the upload's follower up (terminated, paused too long): its parts are aborted. */
  async drop(id: string): Promise<void> {
    const entry = this.followed.get(id);
    if (!entry) return;
    clearTimeout(entry.idle);
    this.followed.delete(id);
    await entry.file
      .cancel()
      .catch((err) => this.deps.log.warn({ err, uploadId: id }, 'aborting a followed upload’s parts failed; the journal’s sweep retries'));
  }

  /** How many uploads are followed now. */
  get size(): number {
    return this.followed.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.followed.keys()].map((id) => this.drop(id)));
  }

  private idleTimer(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.deps.log.info({ uploadId: id }, 'a resumable upload paused: its parts in the bucket are given up until it goes on');
      void this.drop(id);
    }, this.limits.idleMs);
    return timer.unref();
  }
}
