// Which stages a job runs, and how much of the job's progress each one is worth.
import type { Config } from '../config';
import { STAGES, type Stage } from '../pipeline/index';

/** Relative cost, so that overall progress moves at a steady pace: transcoding dominates. */
const STAGE_WEIGHTS: Record<string, number> = { probe: 0.5, thumbnails: 1, transcode: 6, audio: 1, scenes: 1.5 };

export function stageWeight(name: string): number {
  return STAGE_WEIGHTS[name] ?? 1;
}

/** The stages of the registry a job runs, in order (JOB_STAGES narrows them). */
export function selectedStages(config: Pick<Config, 'jobStages'>): Stage[] {
  if (!config.jobStages) return STAGES;
  const unknown = config.jobStages.filter((name) => !STAGES.some((s) => s.name === name));
  if (unknown.length) {
    throw new Error(`JOB_STAGES names unknown stages: ${unknown.join(', ')}. Known: ${STAGES.map((s) => s.name).join(', ')}`);
  }
  return STAGES.filter((s) => config.jobStages!.includes(s.name));
}

/** Overall progress, given the finished stages and the fraction of the current one. */
export function jobProgress(stageNames: string[], finished: Set<string>, current?: { name: string; fraction: number }): number {
  const total = stageNames.reduce((sum, n) => sum + stageWeight(n), 0);
  let done = stageNames.filter((n) => finished.has(n)).reduce((sum, n) => sum + stageWeight(n), 0);
  if (current) done += stageWeight(current.name) * Math.min(1, Math.max(0, current.fraction));
  return total ? Math.min(1, Math.round((done / total) * 1000) / 1000) : 1;
}
