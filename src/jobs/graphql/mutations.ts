// Mutations of the jobs domain's GraphQL API.
import { builder } from '../../graphql/builder';
import {
  ForbiddenError,
  InsufficientCreditsError,
  InvalidInputError,
  JobAlreadyProcessingError,
  JobNotFoundError,
  VideoNotFoundError,
} from '../../errors/app-errors';
import { cancelJob, retryJob } from '../control';
import { submitJob } from '../submit';
import { JobRef } from './types';
import { OutputFormatEnum, ProcessingModelEnum } from './enums';

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
    pipeline: t.string({ required: false, defaultValue: 'default', description: 'Which pipeline runs (the `pipelines` query lists them).' }),
    stageOptions: t.field({
      type: 'JSON',
      required: false,
      description: 'Options per stage, e.g. {"loudnorm": {"targetLufs": -16}}, each checked against that stage\'s optionsSchema.',
    }),
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
      submitJob(ctx.services, ctx.viewer, { ...input, background: input.background as Record<string, unknown> | null | undefined, requestId: ctx.requestId }),
  }),
);

builder.mutationField('cancelJob', (t) =>
  t.field({
    type: JobRef,
    args: { id: t.arg.id({ required: true }) },
    errors: {
      types: [JobNotFoundError, InvalidInputError],
      union: { name: 'CancelJobResult' },
      result: { name: 'CancelJobSuccess' },
      dataField: { name: 'job' },
    },
    resolve: (_root, args, ctx) => cancelJob(ctx.services, ctx.viewer, args.id),
  }),
);

builder.mutationField('retryJob', (t) =>
  t.field({
    type: JobRef,
    description: 'Runs a FAILED, TIMED_OUT or CANCELLED job again, keeping the stages it already finished.',
    args: {
      id: t.arg.id({ required: true }),
      timeoutSeconds: t.arg.int({
        required: false,
        description:
          'A new time limit for the job from this run on (a TIMED_OUT job needs a longer one), at most PROCESSING_TIMEOUT_SECONDS. Default: its own.',
      }),
    },
    errors: {
      types: [JobNotFoundError, JobAlreadyProcessingError, InsufficientCreditsError, InvalidInputError],
      union: { name: 'RetryJobResult' },
      result: { name: 'RetryJobSuccess' },
      dataField: { name: 'job' },
    },
    resolve: (_root, args, ctx) => retryJob(ctx.services, ctx.viewer, args.id, { timeoutSeconds: args.timeoutSeconds }),
  }),
);
