// Which ffmpeg a bench ran, and what starting one costs: a distribution's dynamically linked build
// starts in ~150 ms (Debian 12's 5.1, ~100 shared libraries), the bundled static build in ~17 ms, and
// an upload's check starts three processes (BENCHMARKS.md, Uploads).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** "PATH (VERSION), starts in N ms" with N the median of five starts that decode almost nothing. */
export async function describeFfmpeg(ffmpeg: string): Promise<string> {
  const { stdout } = await run(ffmpeg, ['-version']);
  const version = stdout.split('\n')[0]!.replace(/^ffmpeg version (\S+).*$/, '$1');
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    await run(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'nullsrc=d=0.01', '-f', 'null', '-']);
    starts.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  starts.sort((a, b) => a - b);
  return `${ffmpeg} (${version}), starts in ${Math.round(starts[2]!)} ms`;
}
