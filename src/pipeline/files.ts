// Stage outputs appear under their final name only when complete: ffmpeg writes a hidden partial
// file that is renamed at the end, so a killed stage never leaves a half-written file behind a
// real name, and a re-run simply overwrites (the partial name is fixed, so it is reused too).
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentStageError } from './errors.ts';
import type { OutputFile } from './types.ts';

/** `.name.partial.ext`: keeps the extension so tools still recognise the type. */
export function partialName(finalName: string): string {
  const ext = path.extname(finalName);
  return `.${path.basename(finalName, ext)}.partial${ext}`;
}

/**
 * Runs `write(partialPath)` for each final name, then renames them all into place. Partials are
 * removed when anything fails (including an abort).
 */
export async function writeAtomically<T>(outputDir: string, finalNames: string[], write: (partialPaths: string[]) => Promise<T>): Promise<T> {
  const partials = finalNames.map((n) => path.join(outputDir, partialName(n)));
  try {
    const result = await write(partials);
    for (const [i, p] of partials.entries()) {
      const s = await stat(p).catch(() => null);
      // ffmpeg exits 0 when, e.g., a seek lands past the last frame and nothing is encoded: the same
      // input does the same again, so another attempt cannot help.
      if (!s || s.size === 0) throw new PermanentStageError('INTERNAL_ERROR', `ffmpeg exited successfully but produced no ${finalNames[i]}`);
      await rename(p, path.join(outputDir, finalNames[i]));
    }
    return result;
  } finally {
    await Promise.all(partials.map((p) => rm(p, { force: true })));
  }
}

export async function describeFile(outputDir: string, name: string, kind: string, contentType: string): Promise<OutputFile> {
  const { size } = await stat(path.join(outputDir, name));
  return { kind, path: name, contentType, sizeBytes: size };
}
