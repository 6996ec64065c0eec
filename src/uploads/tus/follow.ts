// s3: a resumable upload goes into the bucket while its PATCHes arrive, part by part as the file on this
// process's disk grows past each 8 MB part (Storage.followFile, as uploadVideo does with its temp file).
// When the last byte comes only the last part and the completion are left, so the last PATCH is answered
// soon after it instead of after a put of the whole file (finished.ts records it then).
//
// Followers begin and learn where a write ended only under tus's lock on the upload (store.ts's
// watchedTusStore calls writeStarting and writeEnded around each write), so the writes of one upload are
// heard of in order; tus's progress events, which may come late, only tell a follower how far it can go.
//
// A follower is given up, its multipart upload aborted:
// - when its upload pauses for IDLE_MS (its part buffers are not held for a client that may never come
//   back; an expired upload hears of no more bytes);
// - when it is terminated, or the bucket failed it;
// - when a write starts where this process's last one did not end (another process wrote the bytes
//   between, on a shared DATA_DIR/tus: they are read again through a fresh open);
// - when this process stops.
// The next write begins a new one from the file's first byte (so does the first write a restarted process
// hears of). A process that dies leaves its open multipart upload to the journal's sweep
// (storage/upload-journal.ts).
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { finishedUploadKey } from '../../storage/keys';
import type { FollowedFile, Storage } from '../../storage/types';
import { findTusUpload, tusUploadFile } from './store';

/** A pause longer than this gives the follower up. */
const IDLE_MS = 60_000;
/**
 * At most this many uploads followed at once on one process, each holding up to two 8 MB part buffers;
 * past it an upload is put whole at its last byte.
 */
const MAX_FOLLOWED = 16;
/** A stop waits this long for the followers' aborts; what is left is the journal sweep's. */
const CLOSE_WAIT_MS = 5_000;

interface Followed {
  file: FollowedFile;
  idle: NodeJS.Timeout;
  /** Where this process's last write to the upload ended (-1: none ended yet): where the next must start. */
  end: number;
}

export class UploadFollowers {
  private readonly followed = new Map<string, Followed>();
  private closed = false;

  constructor(
    private readonly deps: { config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>; storage: Storage; log: Logger },
    private readonly limits = { idleMs: IDLE_MS, maxFollowed: MAX_FOLLOWED },
  ) {}

  /**
   * A write (a PATCH's bytes) of upload `id` begins at `offset`, under tus's lock. A follower that did not
   * see this process's own last write end there is given up: another process wrote the bytes between (a
   * shared DATA_DIR/tus), and they are read again through a fresh open. One begins here if none follows
   * the upload, so the parts of a single long PATCH go up while it arrives.
   */
  async writeStarting(id: string, offset: number): Promise<void> {
    const entry = this.followed.get(id);
    if (entry && entry.end !== offset) {
      this.deps.log.info(
        { uploadId: id, offset, lastWriteEnded: entry.end },
        'a resumable upload goes on where this process did not write last: its parts are sent again from its first byte',
      );
      void this.drop(id);
    }
    await this.guarded(id, () => this.follow(id, { begin: true }));
  }

  /**
   * A write of this process ended (all of it, or a client that broke off), still under tus's lock: the
   * file ends where it did, and the follower hears of the last bytes (tus reports progress while a PATCH
   * runs, not where it ended).
   */
  async writeEnded(id: string): Promise<void> {
    await this.guarded(id, async () => {
      const size = await this.follow(id, { begin: true });
      const entry = this.followed.get(id);
      if (entry && size !== null) entry.end = size;
    });
  }

  /**
   * Bytes of upload `id` arrived during a write (tus's progress event): its follower sends what is on
   * disk now as whole parts. The event is heard after tus's lock may be gone, even after the upload was
   * taken or dropped, so it begins no follower; only writeStarting and writeEnded do.
   */
  async progress(id: string): Promise<void> {
    await this.guarded(id, () => this.follow(id, { begin: false }));
  }

  /** What is on disk now, for the upload's follower (begun if `begin` and none follows it); its size. */
  private async follow(id: string, { begin }: { begin: boolean }): Promise<number | null> {
    if (this.deps.storage.driver !== 's3' || this.closed) return null;
    // tus's own record: the file's size is the offset. A finished, gone or expired upload (tus refuses its
    // PATCHes, and the sweep removes it) is not followed again; one followed already is left to go idle.
    const upload = await findTusUpload(this.deps.config, id);
    if (!upload || upload.size === null || upload.offset >= upload.size || this.closed) return null;
    if (upload.createdAt && upload.createdAt.getTime() + this.deps.config.uploadExpiryHours * 3600_000 < Date.now()) return null;
    let entry = this.followed.get(id);
    if (entry?.file.failed && begin) {
      // The bucket failed it: begin again. Its abort is not awaited: this runs under tus's lock, and a
      // bucket that failed may take long to answer.
      void this.drop(id);
      entry = this.followed.get(id);
    }
    if (!entry) {
      if (!begin || this.followed.size >= this.limits.maxFollowed || this.closed) return null;
      const file = this.deps.storage.followFile(finishedUploadKey(id), tusUploadFile(this.deps.config, id), { contentType: 'application/octet-stream' });
      if (!file) return null;
      entry = { file, idle: this.idleTimer(id), end: -1 };
      this.followed.set(id, entry);
    } else entry.idle.refresh();
    entry.file.grow(upload.offset);
    return upload.offset;
  }

  /** Runs `step`; if it fails, the upload's follower is given up (its next write begins one from byte 0). */
  private async guarded(id: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.deps.log.warn({ err, uploadId: id }, 'following a resumable upload’s bytes into the bucket failed; it is put from its first byte');
      void this.drop(id); // not awaited under tus's lock (see above)
    }
  }

  /** The upload's last byte came: its follower, if it has one, for the caller to end. */
  take(id: string): FollowedFile | null {
    const entry = this.followed.get(id);
    if (!entry) return null;
    clearTimeout(entry.idle);
    this.followed.delete(id);
    return entry.file;
  }

  /** Gives the upload's follower up (terminated, paused too long): its parts are aborted. */
  async drop(id: string): Promise<void> {
    const file = this.take(id);
    await file?.cancel().catch((err) => this.deps.log.warn({ err, uploadId: id }, 'aborting a followed upload’s parts failed; the journal’s sweep retries'));
  }

  /** How many uploads are followed now. */
  get size(): number {
    return this.followed.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    const dropped = Promise.all([...this.followed.keys()].map((id) => this.drop(id)));
    await Promise.race([dropped, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
  }

  private idleTimer(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.deps.log.info({ uploadId: id }, 'a resumable upload paused: its parts in the bucket are given up until it goes on');
      void this.drop(id);
    }, this.limits.idleMs);
    return timer.unref();
  }
}
