// Deterministic fault injection: a sh wrapper that fails its first N matching invocations and
// otherwise execs the real ffmpeg. Counters live in files, so it works across processes (workers).
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface FaultyFfmpegOptions {
  realFfmpeg: string;
  /** How many matching invocations fail before it behaves; 0 makes a pass-through that records pids. */
  failures: number;
  /** crash: SIGKILLs itself · hang: sleeps forever (for timeouts) · exit1: prints an error, exits 1. */
  mode: 'crash' | 'hang' | 'exit1';
  /**
   * Only invocations with an argument containing this substring count and may fail, e.g.
   * 'libx264' / 'libvpx-vp9' (transcode), 'silencedetect' (audio), 'gt(scene' (scenes),
   * '0:V:0' (the decode check), 'mjpeg' (thumbnails).
   */
  when?: string;
}

export interface FaultyFfmpeg {
  path: string;
  /** Matching invocations so far (all invocations when `when` is unset). */
  invocations(): Promise<number>;
  /** Pids of every invocation, in order (exec keeps the pid, so these are the ffmpeg/sleep pids). */
  pids(): Promise<number[]>;
  /** The arguments of every invocation, in order, each joined by spaces. */
  argv(): Promise<string[]>;
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const FAIL: Record<FaultyFfmpegOptions['mode'], string> = {
  crash: 'kill -KILL $$',
  // exec keeps the pid, so killing the pid we reported really stops it (no orphaned sleep).
  hang: 'exec sleep 2147483647',
  exit1: 'echo "faulty-ffmpeg: injected failure" >&2; exit 1',
};

export async function makeFaultyFfmpeg(dir: string, opts: FaultyFfmpegOptions): Promise<FaultyFfmpeg> {
  await mkdir(dir, { recursive: true });
  const state = path.join(dir, `faulty-${opts.mode}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(state);
  const script = `#!/bin/sh
S=${q(state)}
WHEN=${q(opts.when ?? '')}
match=1
if [ -n "$WHEN" ]; then
  match=0
  for a in "$@"; do case "$a" in *"$WHEN"*) match=1 ;; esac; done
fi
echo $$ >> "$S/pids"
printf '%s\n' "$*" >> "$S/argv"
[ "$match" = 1 ] || exec ${q(opts.realFfmpeg)} "$@"
# mkdir is atomic: a portable lock around the read-increment-write of the counter.
while ! mkdir "$S/lock" 2>/dev/null; do sleep 0.01; done
n=$(cat "$S/count" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$S/count"
rmdir "$S/lock"
if [ "$n" -le ${Math.max(0, Math.floor(opts.failures))} ]; then
  ${FAIL[opts.mode]}
fi
exec ${q(opts.realFfmpeg)} "$@"
`;
  const file = path.join(state, 'ffmpeg');
  await writeFile(file, script);
  await chmod(file, 0o755);
  const read = (name: string) => readFile(path.join(state, name), 'utf8').catch(() => '');
  return {
    path: file,
    invocations: async () => Number((await read('count')).trim() || 0),
    pids: async () => (await read('pids')).split('\n').filter(Boolean).map(Number),
    argv: async () => (await read('argv')).split('\n').filter(Boolean),
  };
}
