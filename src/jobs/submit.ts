// submitJob: validate, refuse a second active job for the video, reserve credits, then insert the job,
// its stages, its first event and its pg-boss job in one transaction.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { newId } from '../db/ids';
import type { DbOrTx } from '../db/client';
import { isUniqueViolation } from '../db/errors';
import { JOBS_IDEMPOTENCY_INDEX, JOBS_ONE_ACTIVE_PER_VIDEO_INDEX, jobs, jobStages } from '../db/schema/index';
import type { Viewer } from '../auth/viewer';
import { type FieldError, InvalidInputError, JobAlreadyProcessingError } from '../errors/app-errors';
import { validateProcessingOptions, type ProcessingOptions } from '../pipeline/index';
import { DEFAULT_PIPELINE } from '../pipeline/registry/index';
import { processingQueue } from '../queue/queues';
import { sendInTx } from '../queue/send-in-tx';
import { getVisibleVideo } from '../uploads/queries';
import type { Services } from '../services';
import { checkWebhookUrl } from '../webhooks/url-guard';
import { recordReservation, reserveCredits } from './credits';
import { appendJobEvent } from './events';
import { jobCost } from './pricing';
import { ACTIVE_STATUSES } from './status';
import type { JobRow } from '../db/schema/index';

export interface SubmitJobInput {
  videoId: string;
  model?: string | null;
  outputFormat?: string | null;
  background?: Record<string, unknown> | null;
  webhookUrl?: string | null;
  timeoutSeconds?: number | null;
  idempotencyKey?: string | null;
  /** A pipeline of the stage registry; default `default`. */
  pipeline?: string | null;
  /** Options per stage of the pipeline, checked against each stage's optionsSchema. */
  stageOptions?: unknown;
  /** The submitting request's id, kept for the incident report. */
  requestId?: string | null;
}

/** pg-boss's own expiry sits a little after the job's deadline: vidq's timer ends the job first, precisely. */
export const QUEUE_EXPIRY_MARGIN_SECONDS = 30;

/** A job's time limit (submitJob's, or a new one given to retryJob): 1 s up to PROCESSING_TIMEOUT_SECONDS. */
export function timeoutFieldErrors(services: Services, value: number | null | undefined, path: string[]): FieldError[] {
  const limit = services.config.processingTimeoutSeconds;
  if (value == null || (Number.isInteger(value) && value >= 1 && value <= limit)) return [];
  return [{ path, message: `must be a whole number of seconds between 1 and ${limit} (PROCESSING_TIMEOUT_SECONDS)` }];
}

async function validate(services: Services, input: SubmitJobInput) {
  const fieldErrors: FieldError[] = [];
  const parsed = validateProcessingOptions({
    model: input.model ?? undefined,
    outputFormat: input.outputFormat ?? undefined,
    background: input.background ?? undefined,
  });
  if ('fieldErrors' in parsed) fieldErrors.push(...parsed.fieldErrors.map((f) => ({ path: ['input', ...f.path], message: f.message })));
  fieldErrors.push(...timeoutFieldErrors(services, input.timeoutSeconds, ['input', 'timeoutSeconds']));
  if (input.idempotencyKey != null && (input.idempotencyKey.length < 1 || input.idempotencyKey.length > 200)) {
    fieldErrors.push({ path: ['input', 'idempotencyKey'], message: 'must be 1 to 200 characters' });
  }
  const stages = services.stages.checkSubmission(input.pipeline ?? DEFAULT_PIPELINE, input.stageOptions);
  if ('fieldErrors' in stages) fieldErrors.push(...stages.fieldErrors);
  if (input.webhookUrl != null) {
    const check = await checkWebhookUrl(input.webhookUrl, { allowPrivate: services.config.webhookAllowPrivateUrls });
    if (!check.ok) fieldErrors.push({ path: ['input', 'webhookUrl'], message: check.reason });
  }
  if (fieldErrors.length || 'fieldErrors' in parsed || 'fieldErrors' in stages) throw new InvalidInputError(fieldErrors);
  return { options: parsed.options, pipeline: stages.pipeline, stageOptions: stages.stageOptions };
}

export async function submitJob(services: Services, viewer: Viewer, input: SubmitJobInput): Promise<JobRow> {
  const { db } = services.database;
  const { options, pipeline, stageOptions } = await validate(services, input);
  const video = await getVisibleVideo(db, viewer, input.videoId);
  const ownerId = video.ownerId;

  const findByKey = async () => {
    if (!input.idempotencyKey) return null;
    const [existing] = await db
      .select()
      .from(jobs)
      .where(and(eq(jobs.ownerId, ownerId), eq(jobs.idempotencyKey, input.idempotencyKey)));
    return existing ?? null;
  };
  const repeated = await findByKey();
  if (repeated) return repeated;

  const stageNames = pipeline.stages;
  const timeoutSeconds = input.timeoutSeconds ?? services.config.processingTimeoutSeconds;
  try {
    // Statements that do not depend on each other's results go out together (postgres.js pipelines
    // them on the transaction's connection): four round trips in all, which is most of the time from
    // submitJob to a worker's STARTED (bench/jobs.ts (a)).
    return await db.transaction(async (tx) => {
      const jobId = newId('job');
      const cost = jobCost(options.model, video.metadata.durationSeconds);
      const queueJobId = randomUUID();
      // A second active job for the video fails this insert (jobs_one_active_per_video_idx, below).
      const [[job], balance] = await Promise.all([
        tx
          .insert(jobs)
          .values({
            id: jobId,
            videoId: video.id,
            ownerId,
            status: 'QUEUED',
            maxAttempts: services.config.jobMaxRetries + 1,
            options,
            pipeline: pipeline.name,
            stageOptions,
            requestId: input.requestId ?? null,
            webhookUrl: input.webhookUrl ?? null,
            timeoutSeconds,
            costCredits: cost,
            queueJobId,
            idempotencyKey: input.idempotencyKey ?? null,
          })
          .returning(),
        reserveCredits(tx, ownerId, cost),
      ]);
      await Promise.all([
        recordReservation(tx, ownerId, jobId, cost, balance),
        tx.insert(jobStages).values(stageNames.map((name, position) => ({ jobId, name, position }))),
        appendJobEvent(tx, jobId, {
          type: 'QUEUED',
          status: 'QUEUED',
          progress: 0,
          data: { costCredits: cost, options, pipeline: pipeline.name, stageOptions, stages: stageNames, timeoutSeconds, submittedBy: viewer.id },
        }),
        enqueueProcessing(services, tx, job),
      ]);
      return job;
    });
  } catch (error) {
    if (isUniqueViolation(error, JOBS_IDEMPOTENCY_INDEX)) {
      const first = await findByKey();
      if (first) return first;
    }
    if (isUniqueViolation(error, JOBS_ONE_ACTIVE_PER_VIDEO_INDEX)) {
      const [active] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.videoId, video.id), inArray(jobs.status, [...ACTIVE_STATUSES])));
      throw new JobAlreadyProcessingError(active?.id ?? 'unknown', video.id);
    }
    throw error;
  }
}

/** Sends the job's pg-boss job inside the caller's transaction: both exist, or neither. */
export async function enqueueProcessing(services: Services, tx: DbOrTx, job: JobRow) {
  await sendInTx(
    services.boss,
    tx,
    processingQueue(job.pipeline),
    { jobId: job.id },
    { id: job.queueJobId!, expireInSeconds: job.timeoutSeconds + QUEUE_EXPIRY_MARGIN_SECONDS },
  );
}

export type { ProcessingOptions };
