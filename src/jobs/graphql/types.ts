// GraphQL types of the jobs domain: Job, its stages, events and output.
import { builder } from '../../graphql/builder';
import type { BackgroundOptions, ProcessingOptions } from '../../pipeline/options';
import { ERROR_CATALOG } from '../../errors/catalog';
import type { JobErrorShape } from '../../errors/app-errors';
import { JobErrorRef, JobStatusEnum } from '../../graphql/errors';
import type { JobStatus } from '../status';
import { desc, eq } from 'drizzle-orm';
import { jobs, videos, type JobEventRow, type JobRow, type StageRow } from '../../db/schema/index';
import { VideoMetadataRef, VideoRef } from '../../uploads/graphql/types';
import { AudioResultRef, HlsResultRef, ScenesResultRef, ThumbnailsResultRef, TranscodeResultRef } from '../../pipeline/graphql/types';
import type { AudioResult, HlsResult, ProbeResult, ScenesResult, ThumbnailsResult, TranscodeResult } from '../../pipeline/results';
import { WebhookDeliveryRef } from '../../webhooks/graphql/types';
import { JobEventDetailsRef } from './event-details';
import { JobEventTypeEnum, OutputFormatEnum, ProcessingModelEnum, StageStatusEnum } from './enums';
import { incidentReport } from '../incident-report';
import { downloadUrl } from '../../downloads/urls';
import { deliveriesOf, eventsOf, stagesOf } from '../queries';
import type { OutputFile } from '../../pipeline/types';
import { getStage } from '../../pipeline/stages/index';

const BackgroundRef = builder.objectRef<BackgroundOptions>('BackgroundOptions').implement({
  fields: (t) => ({
    remove: t.exposeBoolean('remove'),
    color: t.exposeString('color', { description: 'The keyed colour, e.g. #00ff00.' }),
    similarity: t.exposeFloat('similarity'),
    replaceWith: t.exposeString('replaceWith', { nullable: true, description: 'Colour behind the subject; null = transparent.' }),
  }),
});

const JobOptionsRef = builder.objectRef<ProcessingOptions>('JobOptions').implement({
  fields: (t) => ({
    model: t.field({ type: ProcessingModelEnum, resolve: (o) => o.model }),
    outputFormat: t.field({ type: OutputFormatEnum, resolve: (o) => o.outputFormat }),
    background: t.field({ type: BackgroundRef, nullable: true, resolve: (o) => o.background }),
  }),
});

export const JobStageRef = builder.objectRef<StageRow>('JobStage').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    status: t.field({ type: StageStatusEnum, resolve: (s) => s.status as 'PENDING' }),
    attempts: t.exposeInt('attempts', { description: 'How many times this stage was started.' }),
    progress: t.exposeFloat('progress'),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.finishedAt }),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (s) => s.error as JobErrorShape | null }),
    output: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.output }),
  }),
});

export const JobEventRef = builder.objectRef<JobEventRow>('JobEvent').implement({
  description: "One entry of a job's log. Sequences run 1, 2, 3… per job, without gaps.",
  fields: (t) => ({
    sequence: t.exposeInt('sequence'),
    jobId: t.exposeID('jobId'),
    type: t.field({ type: JobEventTypeEnum, resolve: (e) => e.type as 'QUEUED' }),
    status: t.field({ type: JobStatusEnum, resolve: (e) => e.status as JobStatus }),
    progress: t.exposeFloat('progress'),
    stage: t.exposeString('stage', { nullable: true }),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (e) => e.error as JobErrorShape | null }),
    details: t.field({ type: JobEventDetailsRef, description: "Typed details, by the event's type.", resolve: (e) => e }),
    data: t.field({ type: 'JSON', nullable: true, description: 'The same details, raw (as stored).', resolve: (e) => e.data }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
  }),
});

export interface OutputFileShape extends OutputFile {
  jobId: string;
  stage: string;
}

export const OutputFileRef = builder.objectRef<OutputFileShape>('OutputFile').implement({
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'video, poster, thumbnail…' }),
    stage: t.exposeString('stage'),
    url: t.string({
      description: 'Signed download URL, valid for 24 hours; ask again for a fresh one.',
      resolve: (f, _args, ctx) => downloadUrl(ctx.services, ctx.origin, f.jobId, f),
    }),
    contentType: t.exposeString('contentType'),
    sizeBytes: t.exposeFloat('sizeBytes'),
  }),
});

export interface JobOutputShape {
  job: JobRow;
  stages: StageRow[];
}

export const JobOutputRef = builder.objectRef<JobOutputShape>('JobOutput').implement({
  fields: (t) => ({
    jobId: t.id({ resolve: (o) => o.job.id }),
    files: t.field({
      type: [OutputFileRef],
      resolve: (o) => o.stages.flatMap((s) => (s.files ?? []).map((f) => ({ ...f, jobId: o.job.id, stage: s.name }))),
    }),
    results: t.field({
      type: 'JSON',
      description: "Every stage's result, by stage name (skipped stages are null).",
      resolve: (o) => Object.fromEntries(o.stages.map((s) => [s.name, s.output])),
    }),
    probe: t.field({ type: VideoMetadataRef, nullable: true, resolve: (o) => stageOutput<ProbeResult>(o, 'probe') }),
    thumbnails: t.field({ type: ThumbnailsResultRef, nullable: true, resolve: (o) => stageOutput<ThumbnailsResult>(o, 'thumbnails') }),
    transcode: t.field({ type: TranscodeResultRef, nullable: true, resolve: (o) => stageOutput<TranscodeResult>(o, 'transcode') }),
    audio: t.field({ type: AudioResultRef, nullable: true, resolve: (o) => stageOutput<AudioResult>(o, 'audio') }),
    scenes: t.field({ type: ScenesResultRef, nullable: true, resolve: (o) => stageOutput<ScenesResult>(o, 'scenes') }),
    hls: t.field({
      type: HlsResultRef,
      nullable: true,
      description: 'The HTTP Live Streaming ladder (pipeline `hls`).',
      resolve: (o, _args, ctx) => {
        const hls = stageOutput<HlsResult>(o, 'hls');
        if (!hls) return null;
        const master = { kind: 'hls', path: hls.masterPlaylist, contentType: 'application/vnd.apple.mpegurl' };
        return { ...hls, masterPlaylistUrl: downloadUrl(ctx.services, ctx.origin, o.job.id, master) };
      },
    }),
  }),
});

/** A built-in stage's stored result (null when it was skipped or not run), in its known shape. */
function stageOutput<T>(o: JobOutputShape, name: string): T | null {
  return (o.stages.find((s) => s.name === name)?.output as T | undefined) ?? null;
}

/** What the user should do now, in one sentence. */
export function nextStepFor(job: JobRow): string {
  switch (job.status) {
    case 'QUEUED':
      return job.error
        ? `A transient failure (${job.error.code}) is being retried automatically; follow it with the jobUpdated subscription.`
        : 'Waiting for a worker. Follow it with the jobUpdated subscription, or poll every 5–15 seconds.';
    case 'PROCESSING':
      return 'Processing. Follow it with the jobUpdated subscription; results come with jobOutput once COMPLETED.';
    case 'COMPLETED':
      return 'Done. Fetch the results and download URLs with jobOutput.';
    case 'TIMED_OUT':
      return ERROR_CATALOG.JOB_TIMEOUT.description;
    case 'CANCELLED':
      return 'Cancelled; reserved credits were released. Call retryJob to run it again, keeping finished stages.';
    default:
      if (job.error?.retryable) return 'Failed after its automatic retries on a transient problem: call retryJob to try again (finished stages are kept).';
      if (!job.error) return 'Failed: see error.';
      // A stage of PIPELINES_FILE that refused the video or its options said why in the detail; the
      // catalog's text is about vidq's own decoder and fields.
      if (job.error.stage && !getStage(job.error.stage) && (job.error.code === 'VIDEO_CORRUPT' || job.error.code === 'INVALID_INPUT')) {
        return `Failed: ${job.error.detail.replace(/\.$/, '')}. Submit a video this stage can use, or choose another pipeline or stageOptions; retrying it unchanged fails the same way.`;
      }
      return `Failed: ${ERROR_CATALOG[job.error.code as keyof typeof ERROR_CATALOG]?.description ?? job.error.detail}`;
  }
}

export const JobRef = builder.objectRef<JobRow>('Job').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    videoId: t.exposeID('videoId'),
    video: t.field({
      type: VideoRef,
      resolve: async (j, _a, ctx) => {
        const [video] = await ctx.services.database.db.select().from(videos).where(eq(videos.id, j.videoId));
        return video;
      },
    }),
    status: t.field({ type: JobStatusEnum, resolve: (j) => j.status as JobStatus }),
    progress: t.exposeFloat('progress', { description: '0..1 over all stages.' }),
    stage: t.exposeString('stage', { nullable: true, description: 'The stage running now.' }),
    stages: t.field({ type: [JobStageRef], resolve: (j, _a, ctx) => stagesOf(ctx.services.database.db, j.id) }),
    attempt: t.exposeInt('attempt', { description: 'Attempts started so far (automatic retries and retryJob included).' }),
    maxAttempts: t.exposeInt('maxAttempts', { description: 'The attempt after which automatic retries stop.' }),
    options: t.field({ type: JobOptionsRef, resolve: (j) => j.options }),
    incidentReport: t.field({
      type: 'JSON',
      description:
        "Everything support needs about this job, as one JSON (seed 002's escalation template: incident_time, job_id, model, output_format, symptom, http_status, error_code, request_id, source_video_meta, plus pipeline, stages, attempts, events, webhook_deliveries). Paste it into a ticket.",
      resolve: (j, _args, ctx) => incidentReport(ctx.services.database.db, j),
    }),
    pipeline: t.exposeString('pipeline', { description: 'The pipeline it runs; `stages` lists its stages.' }),
    stageOptions: t.field({
      type: 'JSON',
      description: "submitJob's stageOptions as checked and stored (defaults applied), by stage.",
      resolve: (j) => j.stageOptions,
    }),
    webhookUrl: t.exposeString('webhookUrl', { nullable: true }),
    timeoutSeconds: t.exposeInt('timeoutSeconds'),
    costCredits: t.exposeInt('costCredits'),
    error: t.field({ type: JobErrorRef, nullable: true, resolve: (j) => j.error as JobErrorShape | null }),
    nextStep: t.string({ description: 'What to do now, in one sentence.', resolve: nextStepFor }),
    createdAt: t.field({ type: 'DateTime', resolve: (j) => j.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.finishedAt }),
    deadlineAt: t.field({ type: 'DateTime', nullable: true, description: 'When the job times out (set at its first start).', resolve: (j) => j.deadlineAt }),
    events: t.field({
      type: [JobEventRef],
      args: { afterSequence: t.arg.int({ required: false }) },
      resolve: (j, args, ctx) => eventsOf(ctx.services.database.db, j.id, args.afterSequence ?? 0),
    }),
    output: t.field({
      type: JobOutputRef,
      nullable: true,
      description: 'Null unless COMPLETED.',
      resolve: async (j, _a, ctx) => (j.status === 'COMPLETED' ? { job: j, stages: await stagesOf(ctx.services.database.db, j.id) } : null),
    }),
    webhookDeliveries: t.field({ type: [WebhookDeliveryRef], resolve: (j, _a, ctx) => deliveriesOf(ctx.services.database.db, j.id) }),
  }),
});

builder.objectField(VideoRef, 'jobs', (t) =>
  t.field({
    type: [JobRef],
    description: "This video's jobs, newest first (at most 100).",
    resolve: (video, _a, ctx) => ctx.services.database.db.select().from(jobs).where(eq(jobs.videoId, video.id)).orderBy(desc(jobs.createdAt)).limit(100),
  }),
);
