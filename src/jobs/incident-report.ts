// A job's incident report: seed 002's escalation template, filled from what vidq stores, so that an
// operator can paste one JSON into a support ticket (Job.incidentReport, `npx vidq jobs report JOB_ID`).
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { type JobRow, videos } from '../db/schema/index';
import { ERROR_CATALOG } from '../errors/catalog';
import { publicDeliveryId } from '../webhooks/delivery-id';
import { urlOrigin } from '../webhooks/redact-url';
import { deliveriesOf, stagesOf } from './queries';

/** Seconds a job may reasonably take before it is "slow": its source's length times the model's factor, plus a minute. */
const EXPECTED_FACTOR: Record<string, number> = { FAST: 1, ORIGINAL: 2, PRO: 4 };

export function expectedSeconds(job: Pick<JobRow, 'options' | 'timeoutSeconds'>, sourceSeconds: number): number {
  return Math.min(job.timeoutSeconds, Math.round(60 + sourceSeconds * (EXPECTED_FACTOR[job.options.model] ?? 2)));
}

/** `retryCodes`: the error codes of the automatic retries of the job's current run (automaticRetryCodes). */
function symptomOf(job: JobRow, sourceSeconds: number, now: number, retryCodes: string[]): string {
  if (job.status === 'TIMED_OUT') return `timeout: stopped after its limit of ${job.timeoutSeconds} s`;
  if (job.status === 'FAILED') return `failed with code ${job.error?.code ?? 'unknown'}${job.error?.stage ? ` at stage ${job.error.stage}` : ''}`;
  if (job.status === 'CANCELLED') return 'cancelled';
  if (job.status === 'COMPLETED') {
    // Transient failures it got over are worth a look still (a flaky worker, an outage).
    if (!retryCodes.length) return 'completed (no incident)';
    const n = retryCodes.length;
    return `completed after ${n} automatic ${n === 1 ? 'retry' : 'retries'} (${[...new Set(retryCodes)].join(', ')})`;
  }
  const expected = expectedSeconds(job, sourceSeconds);
  if (job.status === 'QUEUED') {
    // Waiting since it was submitted, or went back to the queue (a retry, a hand-over): updated_at.
    const waiting = Math.round((now - job.updatedAt.getTime()) / 1000);
    return waiting > expected ? `slow: queued for ${waiting} s without a worker taking it` : `queued for ${waiting} s`;
  }
  const since = Math.round((now - (job.startedAt ?? job.createdAt).getTime()) / 1000);
  return since > expected ? `slow: still processing after ${since} s (expected about ${expected} s)` : `processing for ${since} s`;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

interface ReportEvent {
  sequence: number;
  type: string;
  status: string;
  stage: string | null;
  at: string;
  error_code: string | null;
  progress: number;
  stage_progress: number | null;
  /** On the last PROGRESS event of a run: how many PROGRESS events between it and the run's first are left out. */
  omitted: number;
}

/**
 * The job's events for the report, with PROGRESS events summarised in the database: a long job writes
 * a few per second, thousands in all, which would bury the events support needs. Of each run of
 * PROGRESS events (those between two other events, per stage) only the first and the last are kept;
 * the last says how many were left out between them.
 */
async function reportEvents(db: Db, jobId: string): Promise<{ events: ReportEvent[]; total: number }> {
  const rows = await db.execute<Omit<ReportEvent, 'omitted'> & { nth: number; run_length: number; total: number }>(sql`
    select sequence, type, status, stage, to_json(at) #>> '{}' as at, error_code, progress, stage_progress, nth, run_length, total
    from (
      select *,
             row_number() over (partition by run, stage, type order by sequence)::int as nth,
             count(*) over (partition by run, stage, type)::int as run_length,
             count(*) over ()::int as total
      from (
        select sequence, type, status, stage, at, error ->> 'code' as error_code, progress,
               (data ->> 'stageProgress')::float8 as stage_progress,
               -- A run ends at every event that is not PROGRESS: each one starts the next run.
               count(*) filter (where type <> 'PROGRESS') over (order by sequence) as run
        from job_events
        where job_id = ${jobId}
      ) numbered
    ) ranked
    where type <> 'PROGRESS' or nth = 1 or nth = run_length
    order by sequence`);
  const list = [...rows];
  return {
    total: list[0]?.total ?? 0,
    events: list.map((r) => ({
      sequence: r.sequence,
      type: r.type,
      status: r.status,
      stage: r.stage,
      at: new Date(r.at).toISOString(),
      error_code: r.error_code,
      progress: r.progress,
      stage_progress: r.stage_progress,
      omitted: r.type === 'PROGRESS' && r.nth === r.run_length ? Math.max(0, r.run_length - 2) : 0,
    })),
  };
}

/**
 * The error codes of the automatic retries of the job's current run, in order: not a shutdown's
 * hand-back (it uses no retry), nor the retries of a run before the last retryJob.
 */
async function automaticRetryCodes(db: Db, jobId: string): Promise<string[]> {
  const rows = await db.execute<{ code: string | null }>(sql`
    select error ->> 'code' as code from job_events
    where job_id = ${jobId} and type = 'RETRY_SCHEDULED' and coalesce(data ->> 'backoff', '') not like 'none%'
      and sequence > coalesce((select max(sequence) from job_events where job_id = ${jobId} and type = 'QUEUED' and data ? 'retryOf'), 0)
    order by sequence`);
  return rows.map((row) => row.code ?? 'unknown');
}

export async function incidentReport(db: Db, job: JobRow, now = Date.now()): Promise<Record<string, unknown>> {
  const [[video], stages, events, deliveries, retryCodes] = await Promise.all([
    db.select({ metadata: videos.metadata }).from(videos).where(eq(videos.id, job.videoId)),
    stagesOf(db, job.id),
    reportEvents(db, job.id),
    deliveriesOf(db, job.id),
    automaticRetryCodes(db, job.id),
  ]);
  const progressOmitted = events.total - events.events.length;
  const meta = video?.metadata;
  const code = job.error?.code ?? null;
  return {
    incident_time: iso(job.finishedAt ?? job.startedAt ?? job.createdAt),
    job_id: job.id,
    model: job.options.model,
    output_format: job.options.outputFormat,
    symptom: symptomOf(job, meta?.durationSeconds ?? 0, now, retryCodes),
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
    events: events.events.map(({ omitted, progress, stage_progress, ...e }) =>
      e.type === 'PROGRESS' ? { ...e, progress, stage_progress, ...(omitted ? { progress_events_omitted: omitted } : {}) } : e,
    ),
    events_summary: {
      total: events.total,
      listed: events.events.length,
      progress_events_omitted: progressOmitted,
      note: 'Of each run of PROGRESS events only the first and the last are listed; progress_events_omitted on the last counts those left out.',
    },
    // Public ids (whd_…) as the API answers them; the URL by its origin only, since a receiver's path
    // or query may carry its token and this report is pasted into tickets.
    webhook_deliveries: deliveries.map((d) => ({
      id: publicDeliveryId(d.id),
      event_type: d.eventType,
      url: urlOrigin(d.url),
      endpoint_id: d.endpointId,
      status: d.status,
      attempts: d.attempts,
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      error_code: d.errorCode,
      created_at: iso(d.createdAt),
      delivered_at: iso(d.deliveredAt),
    })),
  };
}
