// The built-in stages' results as GraphQL types (JobOutput.probe, .thumbnails, .transcode, .audio,
// .scenes); JobOutput.results keeps every stage's raw JSON, external stages' included.
import { builder } from '../../graphql/builder';
import type { Loudness, Segment } from '../stages/audio';
import type { AudioResult, HlsRendition, HlsResult, Scene, ScenesResult, ThumbnailShot, ThumbnailsResult, TranscodeResult } from '../results';

const SegmentRef = builder.objectRef<Segment>('TimeSegment').implement({
  description: 'A stretch of the video, in seconds from its start.',
  fields: (t) => ({ start: t.exposeFloat('start'), end: t.exposeFloat('end') }),
});

const ThumbnailShotRef = builder.objectRef<ThumbnailShot>('ThumbnailShot').implement({
  fields: (t) => ({
    time: t.exposeFloat('time', { description: 'Seconds from the start.' }),
    file: t.exposeString('file', { description: 'Its OutputFile path.' }),
  }),
});

export const ThumbnailsResultRef = builder.objectRef<ThumbnailsResult>('ThumbnailsResult').implement({
  fields: (t) => ({
    width: t.exposeInt('width'),
    poster: t.field({ type: ThumbnailShotRef, resolve: (r) => r.poster }),
    thumbnails: t.field({ type: [ThumbnailShotRef], resolve: (r) => r.thumbnails }),
  }),
});

export const TranscodeResultRef = builder.objectRef<TranscodeResult>('TranscodeResult').implement({
  fields: (t) => ({
    format: t.exposeString('format', { description: 'MP4 or WEBM.' }),
    codec: t.exposeString('codec'),
    audioCodec: t.exposeString('audioCodec', { nullable: true }),
    width: t.exposeInt('width'),
    height: t.exposeInt('height'),
    durationSeconds: t.exposeFloat('durationSeconds'),
    hasAlpha: t.exposeBoolean('hasAlpha'),
    sizeBytes: t.exposeFloat('sizeBytes'),
    file: t.exposeString('file', { description: 'Its OutputFile path.' }),
  }),
});

const LoudnessRef = builder.objectRef<Loudness>('Loudness').implement({
  description: 'EBU R128 loudness of the audio (null when there was too little to measure).',
  fields: (t) => ({
    integratedLufs: t.exposeFloat('integratedLufs', { nullable: true }),
    loudnessRangeLu: t.exposeFloat('loudnessRangeLu', { nullable: true }),
    truePeakDbfs: t.exposeFloat('truePeakDbfs', { nullable: true }),
  }),
});

export const AudioResultRef = builder.objectRef<AudioResult>('AudioResult').implement({
  fields: (t) => ({
    durationSeconds: t.exposeFloat('durationSeconds'),
    silenceThresholdDb: t.exposeFloat('silenceThresholdDb'),
    minSilenceSeconds: t.exposeFloat('minSilenceSeconds'),
    silences: t.field({ type: [SegmentRef], resolve: (r) => r.silences }),
    activity: t.field({ type: [SegmentRef], description: 'Where there is sound: the complement of the silences.', resolve: (r) => r.activity }),
    loudness: t.field({ type: LoudnessRef, resolve: (r) => r.loudness }),
  }),
});

const SceneRef = builder.objectRef<Scene>('Scene').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    start: t.exposeFloat('start'),
    end: t.exposeFloat('end'),
    score: t.exposeFloat('score', { nullable: true, description: 'How different from the previous scene (null for the first).' }),
    hash: t.exposeString('hash', { description: 'dHash (64 bits, hex) of its first frame, to find repeated shots.' }),
  }),
});

export const ScenesResultRef = builder.objectRef<ScenesResult>('ScenesResult').implement({
  fields: (t) => ({
    threshold: t.exposeFloat('threshold'),
    hashAlgorithm: t.exposeString('hashAlgorithm'),
    scenes: t.field({ type: [SceneRef], resolve: (r) => r.scenes }),
  }),
});

const HlsRenditionRef = builder.objectRef<HlsRendition>('HlsRendition').implement({
  fields: (t) => ({
    name: t.exposeString('name', { description: 'e.g. 720p' }),
    width: t.exposeInt('width'),
    height: t.exposeInt('height'),
    videoKbps: t.exposeInt('videoKbps'),
    audioKbps: t.exposeInt('audioKbps', { nullable: true }),
    playlist: t.exposeString('playlist', { description: "Its playlist's path among the job's files." }),
  }),
});

/** The hls stage's result; JobOutput.hls adds the master playlist's URL. */
export const HlsResultRef = builder.objectRef<HlsResult & { masterPlaylistUrl: Promise<string> | string }>('HlsResult').implement({
  fields: (t) => ({
    masterPlaylist: t.exposeString('masterPlaylist', { description: "The master playlist's path among the job's files." }),
    masterPlaylistUrl: t.string({
      description: 'Give this to a player (hls.js, Safari, VLC, ffprobe): its playlists and segments are reached through it, signed for 24 hours.',
      resolve: (r) => r.masterPlaylistUrl,
    }),
    segmentSeconds: t.exposeFloat('segmentSeconds'),
    segments: t.exposeInt('segments', { description: 'Segments in all renditions.' }),
    renditions: t.field({ type: [HlsRenditionRef], resolve: (r) => r.renditions }),
  }),
});
