// The results of the built-in stages, as they are stored (job_stages.output) and answered (typed in
// GraphQL by pipeline/graphql/types.ts). External stages' results are free-form JSON.
import type { Loudness, Segment } from './stages/audio';
import type { VideoMetadata } from './types';

export type ProbeResult = VideoMetadata;

export interface ThumbnailShot {
  time: number;
  file: string;
}

export interface ThumbnailsResult {
  width: number;
  poster: ThumbnailShot;
  thumbnails: ThumbnailShot[];
}

export interface TranscodeResult {
  format: 'MP4' | 'WEBM';
  codec: string;
  audioCodec: string | null;
  width: number;
  height: number;
  durationSeconds: number;
  hasAlpha: boolean;
  sizeBytes: number;
  file: string;
}

export interface AudioResult {
  durationSeconds: number;
  silenceThresholdDb: number;
  minSilenceSeconds: number;
  silences: Segment[];
  activity: Segment[];
  loudness: Loudness;
}

export interface Scene {
  index: number;
  start: number;
  end: number;
  score: number | null;
  hash: string;
}

export interface ScenesResult {
  threshold: number;
  hashAlgorithm: string;
  scenes: Scene[];
}

export interface HlsRendition {
  name: string;
  width: number;
  height: number;
  videoKbps: number;
  audioKbps: number | null;
  /** Relative to the job's outputs, e.g. hls/720p/index.m3u8. */
  playlist: string;
}

export interface HlsResult {
  /** hls/master.m3u8 */
  masterPlaylist: string;
  segmentSeconds: number;
  segments: number;
  renditions: HlsRendition[];
}
