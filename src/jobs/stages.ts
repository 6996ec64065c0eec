// How much of the job's progress each stage is worth (which stages a job runs: pipeline/registry).

/** Relative cost, so that overall progress moves at a steady pace: transcoding dominates. */
const STAGE_WEIGHTS: Record<string, number> = { probe: 0.5, thumbnails: 1, transcode: 6, audio: 1, scenes: 1.5 };

export function stageWeight(name: string): number {
  return STAGE_WEIGHTS[name] ?? 1;
}

/** Overall progress, given the finished stages and the fraction of the current one. */
export function jobProgress(stageNames: string[], finished: Set<string>, current?: { name: string; fraction: number }): number {
  const total = stageNames.reduce((sum, n) => sum + stageWeight(n), 0);
  let done = stageNames.filter((n) => finished.has(n)).reduce((sum, n) => sum + stageWeight(n), 0);
  if (current) done += stageWeight(current.name) * Math.min(1, Math.max(0, current.fraction));
  return total ? Math.min(1, Math.round((done / total) * 1000) / 1000) : 1;
}
