// Children that must not outlive vidq. A process killed with SIGKILL cannot stop its children: ffmpeg
// would run on, orphaned, to the end of its encode (it ignores SIGPIPE when its progress pipe breaks),
// and the embedded PostgreSQL would keep its port and data directory. On Linux they are therefore
// started through util-linux's `setpriv --pdeathsig SIG`, which makes the kernel send them SIG when
// their parent dies. Where setpriv is missing they are started directly.
import { spawnSync } from 'node:child_process';

let launcherChecked = false;
let launcher: string | null = null;

/** 'setpriv' where it works, else null: then children are started directly. */
export function deathSignalLauncher(): string | null {
  if (!launcherChecked) {
    launcherChecked = true;
    if (process.platform === 'linux') {
      const r = spawnSync('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
      if (!r.error && r.status === 0) launcher = 'setpriv';
    }
  }
  return launcher;
}

/** `program args` as spawn's (file, args), through setpriv when it works: `signal` reaches it when vidq dies. */
export function withDeathSignal(signal: 'SIGKILL' | 'SIGINT', program: string, args: string[]): [string, string[]] {
  const via = deathSignalLauncher();
  return via ? [via, ['--pdeathsig', signal, '--', program, ...args]] : [program, args];
}

/** setpriv's own message when it could not exec the program (then it exits 126 or 127). */
const LAUNCH_FAILED = /^setpriv: failed to execute/m;

/** Why setpriv could not start the program ('ENOENT', 'EACCES'), from its exit code and output; null if it did. */
export function launchFailure(exitCode: number | null, output: string): 'ENOENT' | 'EACCES' | null {
  if (!deathSignalLauncher() || (exitCode !== 126 && exitCode !== 127) || !LAUNCH_FAILED.test(output)) return null;
  return exitCode === 127 ? 'ENOENT' : 'EACCES';
}
