// What a job costs: credits per started minute of source video, by model.
import type { ProcessingModel } from '../pipeline/index';

export const CREDITS_PER_STARTED_MINUTE: Record<ProcessingModel, number> = {
  FAST: 1,
  ORIGINAL: 2,
  PRO: 4,
};

export function startedMinutes(durationSeconds: number): number {
  return Math.max(1, Math.ceil(durationSeconds / 60));
}

export function jobCost(model: ProcessingModel, durationSeconds: number): number {
  return startedMinutes(durationSeconds) * CREDITS_PER_STARTED_MINUTE[model];
}
