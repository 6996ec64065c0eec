// Operator alerts: a job that timed out, failed after its retries (or permanently) or sits QUEUED too
// long, a webhook endpoint whose circuit opened or that answered 410 Gone and was disabled. Each names what happened, the code, and the next step.
// Stored, then announced on one NOTIFY channel in the caller's transaction: API processes push it to
// `alerts` subscribers, worker processes deliver it to ADMIN_ALERT_WEBHOOK_URL (see delivery.ts).
import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { newId } from '../db/ids';
import { alerts } from '../db/schema/index';
import type { JobErrorShape } from '../errors/app-errors';
import { processingQueue } from '../queue/queues';
import type { AlertRow } from '../db/schema/index';

export const ALERTS_CHANNEL = 'vidq_alerts';

export const ALERT_KINDS = ['JOB_TIMED_OUT', 'JOB_FAILED', 'JOB_STUCK_QUEUED', 'WEBHOOK_CIRCUIT_OPEN', 'WEBHOOK_ENDPOINT_DISABLED'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface NewAlert {
  kind: AlertKind;
  code: string;
  message: string;
  nextStep: string;
  ownerId?: string | null;
  jobId?: string | null;
  endpointId?: string | null;
  data?: Record<string, unknown>;
}

/** What the NOTIFY carries: ids only. */
export interface AlertNotice {
  id: string;
  kind: string;
}

export async function raiseAlert(tx: DbOrTx, alert: NewAlert): Promise<AlertRow> {
  const [row] = await tx
    .insert(alerts)
    .values({ id: newId('alr'), ...alert })
    .returning();
  const notice: AlertNotice = { id: row.id, kind: row.kind };
  await tx.execute(sql`select pg_notify(${ALERTS_CHANNEL}, ${JSON.stringify(notice)})`);
  return row;
}

/** The parts of a job row an alert needs (structural, so this module does not import jobs). */
export interface JobFacts {
  id: string;
  ownerId: string;
  videoId: string;
  status: string;
  error: JobErrorShape | null;
  attempt: number;
  timeoutSeconds: number;
  createdAt: Date;
  updatedAt: Date;
  pipeline?: string;
}

const retryHint = (jobId: string) => `then call retryJob(id: "${jobId}") (finished stages are kept)`;

/**
 * The alert for a job that just ended, or null when its end needs no operator: TIMED_OUT, and FAILED
 * (permanently, or after its automatic retries). COMPLETED and CANCELLED raise nothing.
 */
export function alertForFinishedJob(job: JobFacts, data?: Record<string, unknown>): NewAlert | null {
  const base = { ownerId: job.ownerId, jobId: job.id };
  const stage = job.error?.stage ? ` in stage '${job.error.stage}'` : '';
  if (job.status === 'TIMED_OUT') {
    return {
      ...base,
      kind: 'JOB_TIMED_OUT',
      code: 'JOB_TIMEOUT',
      message: `Job ${job.id} (video ${job.videoId}, owner ${job.ownerId}) timed out${stage}: ${job.error?.detail ?? `limit ${job.timeoutSeconds} s`}`,
      nextStep: `Check the worker that ran it (CPU load, a hung ffmpeg, slow storage) or whether the video needs more than its ${job.timeoutSeconds} s; then call retryJob(id: "${job.id}"), with a longer timeoutSeconds if so (finished stages are kept).`,
      data: { videoId: job.videoId, stage: job.error?.stage ?? null, timeoutSeconds: job.timeoutSeconds, attempt: job.attempt },
    };
  }
  if (job.status === 'FAILED') {
    const code = job.error?.code ?? 'INTERNAL_ERROR';
    const exhausted = Boolean(data?.retriesExhausted) || Boolean(job.error?.retryable);
    return {
      ...base,
      kind: 'JOB_FAILED',
      code,
      message: exhausted
        ? `Job ${job.id} (video ${job.videoId}, owner ${job.ownerId}) failed after ${job.attempt} attempts${stage}: ${job.error?.detail ?? code}`
        : `Job ${job.id} (video ${job.videoId}, owner ${job.ownerId}) failed permanently${stage}: ${job.error?.detail ?? code}`,
      nextStep: exhausted
        ? `A transient problem (${code}) outlasted the automatic retries: check the worker's health (GET /health: database, queue, storage; ffmpeg, disk space) and the logs for job ${job.id}; ${retryHint(job.id)}.`
        : `Nothing to fix on the server side unless ${code} is unexpected for this file: the owner must fix the input (e.g. upload a readable video) — retrying it unchanged fails the same way.`,
      data: { videoId: job.videoId, stage: job.error?.stage ?? null, attempts: job.attempt, retriesExhausted: exhausted },
    };
  }
  return null;
}

/** `served`: whether some running worker serves the job's pipeline (WORKER_PIPELINES). */
export function stuckQueuedAlert(job: JobFacts, queuedSeconds: number, limitSeconds: number, served = true): NewAlert {
  const minutes = Math.floor(queuedSeconds / 60);
  const pipeline = job.pipeline ?? 'default';
  const waited = `Job ${job.id} (video ${job.videoId}, owner ${job.ownerId}, pipeline ${pipeline}) has waited in QUEUED for ${minutes >= 1 ? `${minutes} min` : `${queuedSeconds} s`} (QUEUED_ALERT_SECONDS=${limitSeconds})`;
  return {
    kind: 'JOB_STUCK_QUEUED',
    code: 'SERVICE_UNAVAILABLE',
    ownerId: job.ownerId,
    jobId: job.id,
    message: served ? `${waited}.` : `${waited}: no running worker serves pipeline "${pipeline}".`,
    nextStep: served
      ? `Check that worker processes are running (\`vidq serve --role worker\`) and healthy (GET /health), and whether the '${processingQueue(pipeline)}' queue is backed up: add workers or raise WORKER_CONCURRENCY.`
      : `Start a worker that serves pipeline "${pipeline}": WORKER_PIPELINES must include it (or be unset, to serve every pipeline).`,
    data: { videoId: job.videoId, pipeline, servedByAWorker: served, queuedSeconds, limitSeconds, queuedSince: job.updatedAt.toISOString() },
  };
}
