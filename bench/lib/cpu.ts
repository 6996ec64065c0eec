// CPU time of a process and its descendants, from /proc (Linux). On a machine shared with other work,
// throughput swings with the neighbours' load; CPU time spent per request swings much less.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every mainstream Linux

function statOf(pid: number): { ppid: number; cpuSeconds: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

export function cpuAccountingAvailable(): boolean {
  return statOf(process.pid) !== null;
}

/** CPU seconds used so far by `pid` alone and by `pid` with all its descendants (e.g. PostgreSQL). */
export function cpuSeconds(pid: number): { own: number; tree: number } {
  const stats = new Map<number, { ppid: number; cpuSeconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  const own = stats.get(pid)?.cpuSeconds ?? 0;
  let tree = 0;
  const visit = (p: number) => {
    tree += stats.get(p)?.cpuSeconds ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === p) visit(child);
  };
  visit(pid);
  return { own, tree };
}
