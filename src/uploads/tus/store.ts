// Resumable uploads in progress: @tus/file-store under DATA_DIR/tus (`<id>` holds the bytes, `<id>.json`
// what tus knows: size, offset, metadata, and the owner vidq adds). They stay on the disk of the API
// process that receives them; a finished one leaves when createVideoFromUpload makes it a video, when
// it expires, or (s3) when it moves into the bucket (finished.ts).
import { rename, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import type { Config } from '../../config';

/** The metadata key vidq sets at creation (over anything the client sent) to the creating user's id. */
export const OWNER_METADATA_KEY = 'vidq-owner';

export interface TusUpload {
  id: string;
  ownerId: string | null;
  filename: string | null;
  size: number | null;
  offset: number;
  createdAt: Date | null;
}

export function tusDirectory(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'tus');
}

/** The file that holds an upload's bytes while it is on this process's disk. */
export function tusUploadFile(config: Pick<Config, 'dataDir'>, id: string): string {
  return path.join(tusDirectory(config), id);
}

const stores = new Map<string, FileStore>();

/** One FileStore per directory, for createVideoFromUpload and the lookups (the endpoint's own is watchedTusStore's). */
export function tusStore(config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>): FileStore {
  const directory = tusDirectory(config);
  let store = stores.get(directory);
  if (!store) {
    store = new FileStore({ directory, expirationPeriodInMilliseconds: config.uploadExpiryHours * 3600_000 });
    stores.set(directory, store);
  }
  return store;
}

/** What the tus endpoint hears of each write to an upload's file, in order: tus holds the upload's lock. */
export interface TusWriteWatcher {
  writeStarting(id: string, offset: number): Promise<void>;
  /** The write ended (all of it, a client that broke off, or a failure); resolved before tus answers. */
  writeEnded(id: string): Promise<void>;
}

/**
 * The tus endpoint's FileStore (the same files as tusStore's), telling `watcher` where each write begins
 * and that it ended while tus still holds the upload's lock: a PATCH that follows at once (a client
 * resuming, even before the last answer is read) is heard of after the one before it has been.
 */
export function watchedTusStore(config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>, watcher: TusWriteWatcher): FileStore {
  return new WatchedFileStore({ directory: tusDirectory(config), expirationPeriodInMilliseconds: config.uploadExpiryHours * 3600_000 }, watcher);
}

class WatchedFileStore extends FileStore {
  constructor(
    options: ConstructorParameters<typeof FileStore>[0],
    private readonly watcher: TusWriteWatcher,
  ) {
    super(options);
  }

  override async write(...[readable, id, offset]: Parameters<FileStore['write']>): Promise<number> {
    await this.watcher.writeStarting(id, offset);
    try {
      return await super.write(readable, id, offset);
    } finally {
      await this.watcher.writeEnded(id);
    }
  }
}

/** Upload ids are vidq ids: anything else is not one of ours (and never becomes a path). */
export function isUploadId(id: string): boolean {
  return /^upl_[0-9a-z]+$/.test(id);
}

export async function findTusUpload(config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>, id: string): Promise<TusUpload | null> {
  if (!isUploadId(id)) return null;
  try {
    const upload = await tusStore(config).getUpload(id);
    return {
      id,
      ownerId: upload.metadata?.[OWNER_METADATA_KEY] ?? null,
      filename: upload.metadata?.filename ?? null,
      size: upload.size ?? null,
      offset: upload.offset,
      createdAt: upload.creation_date ? new Date(upload.creation_date) : null,
    };
  } catch {
    return null;
  }
}

/**
 * Takes a finished upload's bytes for one caller only: the file is renamed (atomic) and the upload's
 * record removed, so a second caller, a HEAD or a PATCH finds nothing. Null when it is gone.
 */
export async function claimTusUpload(config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>, id: string): Promise<string | null> {
  const directory = tusDirectory(config);
  const claimed = path.join(directory, `${id}.claimed`);
  try {
    await rename(path.join(directory, id), claimed);
  } catch {
    return null;
  }
  await rm(path.join(directory, `${id}.json`), { force: true });
  return claimed;
}

/** Removes an upload and its record (a refused or expired one). */
export async function removeTusUpload(config: Pick<Config, 'dataDir'>, id: string): Promise<void> {
  const directory = tusDirectory(config);
  await Promise.all([id, `${id}.json`, `${id}.claimed`].map((name) => rm(path.join(directory, name), { force: true })));
}

/**
 * Removes uploads created more than UPLOAD_EXPIRY_HOURS ago, finished or not, and claimed files a
 * crashed process left. Run by every API process on its own tus directory.
 */
export async function sweepExpiredTusUploads(config: Pick<Config, 'dataDir' | 'uploadExpiryHours'>, now = Date.now()): Promise<string[]> {
  const directory = tusDirectory(config);
  const expiryMs = config.uploadExpiryHours * 3600_000;
  const removed: string[] = [];
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    const id = name.replace(/\.(json|claimed)$/, '');
    if (!isUploadId(id) || removed.includes(id)) continue;
    const upload = await findTusUpload(config, id);
    const createdAt = upload?.createdAt?.getTime() ?? (await stat(path.join(directory, name)).catch(() => null))?.mtimeMs;
    if (createdAt !== undefined && now - createdAt > expiryMs) {
      await removeTusUpload(config, id);
      removed.push(id);
    }
  }
  return removed;
}
