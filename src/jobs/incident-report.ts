// A job's incident report: seed 002's escalation template, filled from what vidq stores, so that an
// operator can paste one JSON into a support ticket (Job.incidentReport, `npx vidq jobs report JOB_ID`).
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { type JobRow, videos } from '../db/schema/index';
import { ERROR_CATALOG } from '../errors/catalog';
import { deliveriesOf, eventsOf, stagesOf } from './queries';

/** Seconds a job may reasonably take before it is "slow": its source's length times the model's factor, plus a minute. */
const EXPECTED_FACTOR: Record<string, number> = { FAST: 1, ORIGINAL: 2, PRO: 4 };

export function expectedSeconds(job: Pick<JobRow, 'options' | 'timeoutSeconds'>, sourceSeconds: number): number {
  return Math.min(job.timeoutSeconds, Math.round(60 + sourceSeconds * (EXPECTED_FACTOR[job.options.model] ?? 2)));
}

function symptomOf(job: JobRow, sourceSeconds: number, now: number): string {
  if (job.status === 'TIMED_OUT') return `timeout: stopped after its limit of ${job.timeoutSeconds} s`;
  if (job.status === 'FAILED') return `failed with code ${job.error?.code ?? 'unknown'}${job.error?.stage ? ` at stage ${job.error.stage}` : ''}`;
  if (job.status === 'CANCELLED') return 'cancelled';
  if (job.status === 'COMPLETED') return 'completed (no incident)';
  const since = Math.round((now - (job.startedAt ?? job.createdAt).getTime()) / 1000);
  const expected = expectedSeconds(job, sourceSeconds);
  if (job.status === 'QUEUED') return since > expected ? `slow: queued for ${since} s without a worker taking it` : `queued for ${since} s`;
  return since > expected ? `slow: still processing after ${since} s (expected about ${expected} s)` : `processing for ${since} s`;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

export async function incidentReport(db: Db, job: JobRow, now = Date.now()): Promise<Record<string, unknown>> {
  const [[video], stages, events, deliveries] = await Promise.all([
    db.select({ metadata: videos.metadata }).from(videos).where(eq(videos.id, job.videoId)),
    stagesOf(db, job.id),
    eventsOf(db, job.id),
    deliveriesOf(db, job.id),
  ]);
  const meta = video?.metadata;
  const code = job.error?.code ?? null;
  return {
    incident_time: iso(job.finishedAt ?? job.startedAt ?? job.createdAt),
    job_id: job.id,
    model: job.options.model,
    output_format: job.options.outputFormat,
    symptom: symptomOf(job, meta?.durationSeconds ?? 0, now),
    http_status: code ? (ERROR_CATALOG[code]?.httpStatus ?? 500) : 200,
    error_code: code,
    request_id: job.requestId,
    source_video_meta: meta
      ? { duration_s: meta.durationSeconds, resolution: `${meta.width}x${meta.height}`, codec: meta.videoCodec }
      : { duration_s: null, resolution: null, codec: null }, // the video was deleted
    status: job.status,
    error: job.error,
    pipeline: job.pipeline,
    video_id: job.videoId,
    created_at: iso(job.createdAt),
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    timeout_seconds: job.timeoutSeconds,
    attempts: { made: job.attempt, max: job.maxAttempts },
    stages: stages.map((s) => ({
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      started_at: iso(s.startedAt),
      finished_at: iso(s.finishedAt),
      error: s.error,
    })),
    events: events.map((e) => ({ sequence: e.sequence, type: e.type, status: e.status, stage: e.stage, at: iso(e.at), error_code: e.error?.code ?? null })),
    webhook_deliveries: deliveries.map((d) => ({
      id: d.id,
      event_type: d.eventType,
      status: d.status,
      attempts: d.attempts,
      last_status_code: d.lastStatusCode,
      error_code: d.errorCode,
      delivered_at: iso(d.deliveredAt),
    })),
  };
}
