// The `local` driver: objects are files under DATA_DIR, at their key (today's layout).
import { copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type AbandonedUploadsSweep, assertKey, type Storage, type StoredObject } from './types';

export class LocalStorage implements Storage {
  readonly driver = 'local' as const;

  constructor(private readonly dataDir: string) {}

  private pathOf(key: string, options?: { topLevel?: boolean }): string {
    assertKey(key, options);
    return path.join(this.dataDir, ...key.split('/'));
  }

  async check(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
  }

  async putFile(key: string, file: string, options: { move?: boolean } = {}): Promise<void> {
    const dest = this.pathOf(key);
    if (path.resolve(file) === dest) return; // written in place (localDirectory)
    await mkdir(path.dirname(dest), { recursive: true });
    if (options.move) {
      try {
        await rename(file, dest);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error; // SCRATCH_DIR on another disk: copy
      }
    }
    const partial = `${dest}.${process.pid}.part`;
    try {
      await copyFile(file, partial);
      await rename(partial, dest);
    } finally {
      await rm(partial, { force: true });
    }
    if (options.move) await rm(file, { force: true });
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.putFile(toKey, this.pathOf(fromKey));
  }

  followFile(): null {
    return null; // the whole file is renamed into place (putFile with move)
  }

  async get(key: string, range?: { start: number; end: number }): Promise<StoredObject | null> {
    // Opened before anything is answered: once open, a file removed meanwhile (retention, deleteVideo)
    // can still be read to the end.
    const handle = await open(this.pathOf(key), 'r').catch(() => null);
    if (!handle) return null;
    const info = await handle.stat().catch(() => null);
    if (!info?.isFile()) {
      await handle.close();
      return null;
    }
    return { size: info.size, body: handle.createReadStream(range ? { start: range.start, end: range.end } : {}) };
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const info = await stat(this.pathOf(key)).catch(() => null);
    return info?.isFile() ? { size: info.size } : null;
  }

  async localPath(key: string): Promise<string> {
    return this.pathOf(key);
  }

  localDirectory(prefix: string): string {
    return this.pathOf(prefix.replace(/\/$/, ''));
  }

  async presignedUrl(): Promise<null> {
    return null;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (!prefix.endsWith('/')) throw new Error(`a prefix ends with '/': ${prefix}`);
    await rm(this.pathOf(prefix.slice(0, -1)), { recursive: true, force: true });
  }

  async list(prefix: string): Promise<string[]> {
    const root = this.pathOf(prefix.replace(/\/$/, ''), { topLevel: true });
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.part'))
      .map((entry) => path.relative(this.dataDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .sort();
  }

  /** Files are written in place: nothing is ever half-put in another system. */
  recordUploadsIn(): void {}

  async abortAbandonedUploads(): Promise<AbandonedUploadsSweep> {
    return { aborted: [], refused: [], failed: [] };
  }

  close(): void {}
}
