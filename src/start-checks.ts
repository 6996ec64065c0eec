// What `vidq serve` checks before it starts: that the programs and the directory its configuration
// names work here. A wrong FFMPEG_PATH or an unwritable SCRATCH_DIR stops the start with one line that
// names the variable, instead of every upload failing with a masked 500 and every job using up its
// retries on "could not start ffmpeg".
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from './config';
import { resolveBinaries } from './pipeline/binaries';

const run = promisify(execFile);

const CHECK_TIMEOUT_MS = 15_000;

export class StartCheckError extends Error {
  override name = 'StartCheckError';
}

/** `ffmpeg -version` (or ffprobe's): the binary exists, may be executed, and its libraries load. */
async function checkProgram(variable: 'FFMPEG_PATH' | 'FFPROBE_PATH', bin: string, configured: boolean): Promise<void> {
  try {
    await run(bin, ['-version'], { timeout: CHECK_TIMEOUT_MS, maxBuffer: 1 << 20 });
  } catch (error) {
    const e = error as Omit<NodeJS.ErrnoException, 'code'> & { code?: string | number; stderr?: string; killed?: boolean };
    const said = e.stderr?.trim().split('\n').at(-1);
    // A string code: it could not be started (ENOENT, EACCES); a number: it ran and exited with it.
    const why = e.killed
      ? `no answer to -version within ${CHECK_TIMEOUT_MS / 1000} s`
      : typeof e.code === 'string'
        ? e.code
        : said || (e.code !== undefined ? `exit code ${e.code}` : e.message);
    const fix = configured
      ? `point ${variable} at a working binary, or unset it to use the one on PATH or vidq's bundled build`
      : `install ffmpeg (it brings ffprobe) and put it on PATH, or set ${variable}, or run \`npm install\` again to restore the bundled build`;
    throw new StartCheckError(`${variable}: ${bin} cannot be run (${why}). Next step: ${fix}.`);
  }
}

/** SCRATCH_DIR can be created and written (a file in its place, a read-only disk, /proc: refused here). */
async function checkScratchDir(dir: string): Promise<void> {
  const probe = path.join(dir, `.vidq-start-check-${process.pid}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await mkdir(dir, { recursive: true });
        await writeFile(probe, 'ok');
        await rm(probe, { force: true });
      })(),
      new Promise((_, reject) => {
        // Node's recursive mkdir never returns for some special file systems (/proc): give up.
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new StartCheckError(
      `SCRATCH_DIR: ${dir} cannot be written (${e.code ?? e.message}). Next step: point SCRATCH_DIR (default DATA_DIR/scratch) at a writable directory on a local disk.`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export async function checkStartRequirements(config: Pick<Config, 'ffmpegPath' | 'ffprobePath' | 'scratchDir'>): Promise<void> {
  let binaries: ReturnType<typeof resolveBinaries>;
  try {
    binaries = resolveBinaries(config);
  } catch (error) {
    // No ffmpeg on PATH and the bundled build's package is missing its binary for this platform.
    throw new StartCheckError(
      `FFMPEG_PATH: no ffmpeg on PATH and no bundled build (${(error as Error).message}). Next step: install ffmpeg, or set FFMPEG_PATH and FFPROBE_PATH.`,
    );
  }
  await Promise.all([
    checkProgram('FFMPEG_PATH', binaries.ffmpeg, config.ffmpegPath !== undefined),
    checkProgram('FFPROBE_PATH', binaries.ffprobe, config.ffprobePath !== undefined),
    checkScratchDir(config.scratchDir),
  ]);
}
