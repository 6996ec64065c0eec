// An external stage whose worker was SIGKILLed dies with it (setpriv --pdeathsig), but what the stage
// started itself (a background child, a pipeline of programs) lives on in its process group. Whichever
// worker on the same machine hands the job on first ends them; when the job was handed on from another
// machine, the next worker to start here, or this machine's workers' sweep each minute, does
// (jobs/crash-recovery.ts). Every stage process carries VIDQ_JOB_ID, VIDQ_ATTEMPT and VIDQ_INSTANCE (its
// deployment) in its environment, which /proc shows to the same user.
import { readdir, readFile } from 'node:fs/promises';

/** A process an external stage started (or one of its descendants), as its environment names it. */
export interface StageProcess {
  pid: number;
  jobId: string;
  attempt: number;
  instance: string | null;
}

/** This machine's stage processes that the current user can see. Linux only (elsewhere: none). */
export async function stageProcesses(): Promise<StageProcess[]> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: StageProcess[] = [];
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (!environ.includes('VIDQ_JOB_ID=')) continue;
    const vars = new Map(environ.split('\0').map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    const jobId = vars.get('VIDQ_JOB_ID');
    const attempt = Number(vars.get('VIDQ_ATTEMPT'));
    if (jobId && Number.isInteger(attempt)) found.push({ pid, jobId, attempt, instance: vars.get('VIDQ_INSTANCE') ?? null });
  }
  return found;
}

/** SIGKILLs the given processes; returns the pids it reached. */
export function killProcesses(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** SIGKILLs this machine's processes of the job's attempt; returns their pids. */
export async function killStageProcesses(jobId: string, attempt: number): Promise<number[]> {
  const found = await stageProcesses();
  return killProcesses(found.filter((p) => p.jobId === jobId && p.attempt === attempt).map((p) => p.pid));
}
