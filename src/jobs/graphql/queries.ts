// Queries of the jobs domain's GraphQL API.
import { builder } from '../../graphql/builder';
import {
  ForbiddenError,
  InvalidInputError,
  JobFailedError,
  JobNotCompleteError,
  JobNotFoundError,
  JobTimeoutError,
  type JobErrorShape,
} from '../../errors/app-errors';
import { JobStatusEnum } from '../../graphql/errors';
import type { JobStatus } from '../status';
import { getVisibleJob, listJobs, stagesOf } from '../queries';
import { connectionRef } from '../../graphql/pagination';
import { CREDITS_PER_STARTED_MINUTE } from '../pricing';
import { JobOutputRef, JobRef } from './types';
import { ProcessingModelEnum } from './enums';

builder.queryField('job', (t) =>
  t.field({
    type: JobRef,
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [JobNotFoundError], directResult: true, union: { name: 'JobResult' } },
    resolve: (_root, args, ctx) => getVisibleJob(ctx.services.database.db, ctx.viewer, args.id),
  }),
);

const JobConnectionRef = connectionRef('JobConnection', JobRef);

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
