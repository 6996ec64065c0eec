// Queries and mutations of the jobs domain.
import { builder } from '../../graphql/builder';
import { ForbiddenError, InsufficientCreditsError, InvalidInputError, JobAlreadyProcessingError, JobFailedError, type JobErrorShape, JobNotCompleteError, JobNotFoundError, JobTimeoutError, VideoNotFoundError } from '../../errors/app-errors';
import { JobStatusEnum } from '../../graphql/errors';
import { type JobStatus } from '../../jobs/status';
import { PageInfoRef } from '../../graphql/pagination';
import { cancelJob, retryJob } from '../control';
import { CREDITS_PER_STARTED_MINUTE } from '../pricing';
import { getVisibleJob, listJobs, stagesOf } from '../queries';
import { submitJob } from '../submit';
import { JobOutputRef, JobRef, OutputFormatEnum, ProcessingModelEnum } from './types';
import type { JobRow } from '../../db/schema/index';

builder.queryField('job', (t) =>
  t.field({
    type: JobRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [JobNotFoundError], directResult: true, union: { name: 'JobResult' } },
    resolve: (_root, args, ctx) => getVisibleJob(ctx.services.database.db, ctx.viewer, args.id),
  }),
);

const JobConnectionRef = builder.objectRef<{ nodes: JobRow[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>('JobConnection').implement({
  fields: (t) => ({
    nodes: t.field({ type: [JobRef], resolve: (c) => c.nodes }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
  }),
});

builder.queryField('jobs', (t) =>
  t.field({
    type: JobConnectionRef,
    description: 'Jobs, newest first. Admins see everyone’s (or one owner’s with ownerId).',
    args: {
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
      status: t.arg({ type: [JobStatusEnum], required: false }),
      videoId: t.arg.id({ required: false }),
      ownerId: t.arg.id({ required: false }),
    },
    errors: { types: [InvalidInputError, ForbiddenError], directResult: true, union: { name: 'JobsResult' } },
    resolve: (_root, args, ctx) => listJobs(ctx.services.database.db, ctx.viewer, args),
  }),
);

builder.queryField('jobOutput', (t) =>
  t.field({
    type: JobOutputRef,
    args: { jobId: t.arg.id({ required: true }) },
    errors: {
      types: [JobNotFoundError, JobNotCompleteError, JobTimeoutError, JobFailedError],
      directResult: true,
      union: { name: 'JobOutputResult' },
    },
    resolve: async (_root, args, ctx) => {
      const job = await getVisibleJob(ctx.services.database.db, ctx.viewer, args.jobId);
      if (job.status === 'TIMED_OUT') throw new JobTimeoutError(job.error?.detail ?? `Job '${job.id}' timed out.`);
      if (job.status === 'FAILED') throw new JobFailedError(job.error as JobErrorShape);
      if (job.status !== 'COMPLETED') throw new JobNotCompleteError(job.id, job.status as JobStatus);
      return { job, stages: await stagesOf(ctx.services.database.db, job.id) };
    },
  }),
);

const ModelPriceRef = builder.objectRef<{ model: 'FAST' | 'ORIGINAL' | 'PRO'; credits: number }>('ModelPrice').implement({
  fields: (t) => ({
    model: t.field({ type: ProcessingModelEnum, resolve: (p) => p.model }),
    creditsPerStartedMinute: t.exposeInt('credits'),
  }),
});
const PricingRef = builder.objectRef<typeof CREDITS_PER_STARTED_MINUTE>('Pricing').implement({
  description: 'A job costs (started minutes of source video) × (the model’s price), reserved at submit.',
  fields: (t) => ({
    unit: t.string({ resolve: () => 'credits per started minute of source video' }),
    models: t.field({
      type: [ModelPriceRef],
      resolve: (p) => (Object.keys(p) as Array<keyof typeof p>).map((model) => ({ model, credits: p[model] })),
    }),
  }),
});
builder.queryField('pricing', (t) => t.field({ type: PricingRef, resolve: () => CREDITS_PER_STARTED_MINUTE }));

const BackgroundInput = builder.inputType('BackgroundInput', {
  description: 'Key out a coloured background (green screen).',
  fields: (t) => ({
    remove: t.boolean({ required: false, description: 'Default true.' }),
    color: t.string({ required: false, description: 'Hex colour to key out. Default #00ff00.' }),
    similarity: t.float({ required: false, description: '0.01..1, how close a colour must be to be keyed. Default 0.3.' }),
    replaceWith: t.string({ required: false, description: 'Hex colour behind the subject. Omit for transparency (WEBM only).' }),
  }),
});

const SubmitJobInput = builder.inputType('SubmitJobInput', {
  fields: (t) => ({
    videoId: t.id({ required: true }),
    model: t.field({ type: ProcessingModelEnum, required: false, defaultValue: 'ORIGINAL' }),
    outputFormat: t.field({ type: OutputFormatEnum, required: false, defaultValue: 'MP4' }),
    background: t.field({ type: BackgroundInput, required: false }),
    webhookUrl: t.string({ required: false, description: 'Receives job.completed / failed / timed_out / cancelled, signed with viewer.webhookSecret.' }),
    timeoutSeconds: t.int({ required: false, description: 'At most PROCESSING_TIMEOUT_SECONDS (the default).' }),
    idempotencyKey: t.string({ required: false, description: 'A repeat with the same key returns the first job.' }),
  }),
});

builder.mutationField('submitJob', (t) =>
  t.field({
    type: JobRef,
    args: { input: t.arg({ type: SubmitJobInput, required: true }) },
    errors: {
      types: [VideoNotFoundError, JobAlreadyProcessingError, InsufficientCreditsError, InvalidInputError, ForbiddenError],
      union: { name: 'SubmitJobResult' },
      result: { name: 'SubmitJobSuccess' },
      dataField: { name: 'job' },
    },
    resolve: (_root, { input }, ctx) =>
      submitJob(ctx.services, ctx.viewer, { ...input, background: input.background as Record<string, unknown> | null | undefined }),
  }),
);

builder.mutationField('cancelJob', (t) =>
  t.field({
    type: JobRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [JobNotFoundError, InvalidInputError], union: { name: 'CancelJobResult' }, result: { name: 'CancelJobSuccess' }, dataField: { name: 'job' } },
    resolve: (_root, args, ctx) => cancelJob(ctx.services, ctx.viewer, args.id),
  }),
);

builder.mutationField('retryJob', (t) =>
  t.field({
    type: JobRef,
    description: 'Runs a FAILED, TIMED_OUT or CANCELLED job again, keeping the stages it already finished.',
    args: { id: t.arg.id({ required: true }) },
    errors: {
      types: [JobNotFoundError, JobAlreadyProcessingError, InsufficientCreditsError, InvalidInputError],
      union: { name: 'RetryJobResult' },
      result: { name: 'RetryJobSuccess' },
      dataField: { name: 'job' },
    },
    resolve: (_root, args, ctx) => retryJob(ctx.services, ctx.viewer, args.id),
  }),
);
