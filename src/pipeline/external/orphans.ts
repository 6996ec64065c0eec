// An external stage whose worker was SIGKILLed dies with it (setpriv --pdeathsig), but what the stage
// started itself (a background child, a pipeline of programs) lives on in its process group. Whichever
// worker on the same machine hands the job on first ends them: every stage process carries
// VIDQ_JOB_ID and VIDQ_ATTEMPT in its environment, which /proc shows to the same user.
import { readdir, readFile } from 'node:fs/promises';

/** SIGKILLs this machine's processes of the job's attempt; returns their pids. Linux only (elsewhere: none). */
export async function killStageProcesses(jobId: string, attempt: number): Promise<number[]> {
  const wanted = [`VIDQ_JOB_ID=${jobId}`, `VIDQ_ATTEMPT=${attempt}`];
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  const killed: number[] = [];
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
    if (!environ) continue;
    const vars = environ.split('\0');
    if (!wanted.every((v) => vars.includes(v))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}
