// The put into remote storage (s3) while an upload arrives: the temp file is streamed into the bucket
// as it is written, so that once the checks pass only the last part is left to send instead of the
// whole file (BENCHMARKS.md, Uploads). A refused upload cancels it, and nothing is left in the bucket.
// Local storage needs none of this: the checked temp file is renamed into place.
import path from 'node:path';
import type { Storage } from '../storage/types';
import { GrowingFileReader } from './growing-file';

export interface EarlyPut {
  /** The temp file now holds this many bytes. */
  grow(bytes: number): void;
  /** The whole file is there. */
  end(): void;
  /** Settles when the object is stored (or the put failed: StorageUnavailableError). */
  done(): Promise<void>;
  /** Gives up: stops the put, and deletes the object should its last part have landed already. */
  cancel(): Promise<void>;
}

export function startEarlyPut(storage: Storage, key: string, tempPath: string, contentType: string): EarlyPut | null {
  if (storage.localDirectory(`${path.posix.dirname(key)}/`) !== null) return null; // local storage: renamed into place later
  const input = new GrowingFileReader(tempPath);
  input.on('error', () => {}); // the put sees it; a cancel after the put read the end must not crash
  const put = storage.putStream(key, input, { contentType });
  const settled = put.then(
    () => true,
    () => false,
  );
  let cancelled: Promise<void> | null = null;
  return {
    grow: (bytes) => input.grow(bytes),
    end: () => input.finish(),
    done: () => put,
    cancel() {
      cancelled ??= (async () => {
        input.destroy(new Error('the upload was refused'));
        if (await settled) await storage.delete(key);
      })();
      return cancelled;
    },
  };
}
