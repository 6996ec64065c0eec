// The ordered stage registry. A new stage is one file in this folder plus one line here.
import type { Stage } from '../types.ts';
import { audioStage } from './audio.ts';
import { hlsStage } from './hls.ts';
import { probeStage } from './probe.ts';
import { scenesStage } from './scenes.ts';
import { thumbnailsStage } from './thumbnails.ts';
import { transcodeStage } from './transcode.ts';

/** The `default` pipeline's stages, in order (JOB_STAGES narrows them). */
export const STAGES: Stage[] = [probeStage, thumbnailsStage, transcodeStage, audioStage, scenesStage];

/** Built-in stages outside `default`, run by other pipelines (`hls`). */
export const EXTRA_STAGES: Stage[] = [hlsStage];

export function getStage(name: string): Stage | undefined {
  return [...STAGES, ...EXTRA_STAGES].find((s) => s.name === name);
}
