// The ordered stage registry. A new stage is one file in this folder plus one line here.
import type { Stage } from '../types.ts';
import { audioStage } from './audio.ts';
import { probeStage } from './probe.ts';
import { scenesStage } from './scenes.ts';
import { thumbnailsStage } from './thumbnails.ts';
import { transcodeStage } from './transcode.ts';

export const STAGES: Stage[] = [probeStage, thumbnailsStage, transcodeStage, audioStage, scenesStage];

export function getStage(name: string): Stage | undefined {
  return STAGES.find((s) => s.name === name);
}
