// Public surface of the pipeline for the job system and the upload handler.
export { resolveBinaries } from './binaries.ts';
export { StageError, PermanentStageError, TransientStageError, StageAbortedError, DeadlineReached, toStageError } from './errors.ts';
export { runFfmpeg, runFfprobe } from './ffmpeg.ts';
export { probeAndVerify, probeVideo } from './probe.ts';
export { validateProcessingOptions, TRANSPARENCY_NEEDS_WEBM } from './options.ts';
export type { ProcessingOptions, ProcessingModel, OutputFormat, BackgroundOptions } from './options.ts';
export { STAGES, getStage } from './stages/index.ts';
export type * from './types.ts';
