// Shared shapes of the pipeline. Stages are plain objects so that adding one (speech recognition,
// embeddings…) is a new file in ./stages plus one line in the registry.
import type { Logger } from '../logger.ts';
import type { ProcessingOptions } from './options.ts';

export interface VideoMetadata {
  durationSeconds: number;
  /** Displayed size: swapped when the stream carries a ±90° rotation, as players show it. */
  width: number;
  height: number;
  videoCodec: string;
  audioCodec: string | null;
  /** Frames per second as a decimal (r_frame_rate, else avg_frame_rate); 0 when unknown. */
  frameRate: number;
  /** Bits per second of the whole file; null when neither ffprobe nor size/duration tell. */
  bitRate: number | null;
  hasAudio: boolean;
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm". */
  formatName: string;
}

export interface Binaries {
  ffmpeg: string;
  ffprobe: string;
}

export interface StageContext {
  jobId: string;
  /** The job's attempt (1, 2…). */
  attempt: number;
  /**
   * Which vidq deployment (its database) runs the stage: an external stage's processes carry it
   * (VIDQ_INSTANCE), so a worker ends only its own deployment's leftovers (jobs/crash-recovery.ts).
   */
  instance?: string;
  /** The source video. */
  inputPath: string;
  /** This job's output directory; it exists, and stages write files only here. */
  outputDir: string;
  options: ProcessingOptions;
  /** Metadata of the source, as measured at upload. */
  source: VideoMetadata;
  /** This stage's `stageOptions` from submitJob, checked against its optionsSchema (`{}` when none). */
  stageOptions: Record<string, unknown>;
  /** This attempt's scratch directory on this machine (removed when the attempt ends). */
  scratchDir: string;
  log: Pick<Logger, 'info' | 'warn'>;
  /** JSON outputs of earlier finished stages, by stage name. */
  previous: Record<string, unknown>;
  binaries: Binaries;
  /** Fires on timeout or cancel; stages pass it to every ffmpeg they start. */
  signal: AbortSignal;
  /** 0..1 within this stage. */
  reportProgress(fraction: number): void;
}

export interface OutputFile {
  kind: string;
  /** Relative to outputDir. */
  path: string;
  contentType: string;
  sizeBytes: number;
}

export interface StageResult {
  /** JSON-serialisable; stored by the job system and handed to later stages in `previous`. */
  output: Record<string, unknown>;
  files: OutputFile[];
}

export interface Stage {
  name: string;
  description: string;
  /** A reason to skip (e.g. 'no audio stream'), or null to run. */
  shouldSkip?(ctx: StageContext): string | null;
  run(ctx: StageContext): Promise<StageResult>;
}
