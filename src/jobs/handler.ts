// Runs one processing job: its stages in order, resuming after the last checkpointed one. This is where
// a failure is classified and a retry decided:
//   - permanent (corrupt input, invalid options)  → FAILED now;
//   - transient (ffmpeg crashed, DB lost, disk full) → RETRY_SCHEDULED, thrown so pg-boss retries it with
//     exponential backoff, or FAILED once the retries are used up;
//   - deadline passed → TIMED_OUT, never retried; cancelled or superseded → stop quietly.
import os from 'node:os';
import { eq } from 'drizzle-orm';
import type { JobWithMetadata } from 'pg-boss';
import { jobs, videos } from '../db/schema/index';
import { metrics } from '../metrics/index';
import { ERROR_CATALOG } from '../errors/catalog';
import { DeadlineReached, resolveBinaries, StageAbortedError, StageError, toStageError } from '../pipeline/index';
import type { Services } from '../services';
import { StageTimedOut } from '../pipeline/external/stage';
import { outputFilesWithUrls } from '../downloads/urls';
import { type JobWorkspace, openJobWorkspace } from './workspace';
import { ProgressWriter } from './progress-writer';
import { jobProgress } from './stages';
import { enqueueProcessing } from './submit';
import { deploymentTag } from './crash-recovery';
import { AttemptSupersededError, finishJob, markStageFinished, markStageStarted, recordProgress, scheduleRetry, startAttempt } from './transitions';
import type { JobErrorShape } from '../errors/app-errors';
import type { JobRow, StageRow, VideoRow } from '../db/schema/index';

export interface ProcessingJobData {
  jobId: string;
}

/** Why a running job was stopped from outside its stages (besides DeadlineReached, from the pipeline). */
export class WorkerShuttingDown extends Error {}
export class NoLongerOwned extends Error {}

const OWNERSHIP_CHECK_MS = 1000;

const seconds = (n: number) => `${n} second${n === 1 ? '' : 's'}`;

export function timeoutError(job: JobRow, now = Date.now()): JobErrorShape {
  const ranFor = Math.max(1, Math.round((now - (job.startedAt ?? job.createdAt).getTime()) / 1000));
  return {
    code: 'JOB_TIMEOUT',
    message: ERROR_CATALOG.JOB_TIMEOUT.message,
    detail: `Job ran for ${seconds(ranFor)}, exceeding the limit of ${seconds(job.timeoutSeconds)}.`,
    stage: job.stage,
    retryable: false,
  };
}

function jobErrorFrom(error: StageError, stage: string | null): JobErrorShape {
  return { code: error.code, message: error.message, detail: error.detail, stage, retryable: error.retryable };
}

/**
 * After an abort (deadline, cancel, shutdown), how long the attempt's work may take to stop before it is
 * left to end on its own: past a stage's SIGTERM grace (5 s), within the 7 s in which API.md promises
 * the CANCELLED or TIMED_OUT status.
 */
export const STOP_WAIT_MS = 6000;

/**
 * The work; or, once the signal is aborted, the abort, if the work has not stopped within STOP_WAIT_MS.
 * Downloads and puts to the bucket are given up on the signal (workspace.ts), ffmpeg and stages are
 * killed; a step that still cannot be interrupted (a file copy on a hung disk) would otherwise hold a
 * timed-out or cancelled job for as long as it takes: the attempt is recorded as stopped, and that step
 * finishes on its own (the job's rows are guarded by the attempt, no stage or put starts on an aborted
 * signal, and the attempt's scratch goes when it ends).
 */
function untilStopped<T>(work: Promise<T>, signal: AbortSignal, onLateEnd: (error: unknown) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const onAbort = () => {
      timer = setTimeout(() => {
        settled = true;
        reject(signal.reason);
      }, STOP_WAIT_MS);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const done = (settle: () => void, error?: unknown) => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(timer);
      if (settled) return onLateEnd(error ?? null);
      settled = true;
      settle();
    };
    work.then(
      (value) => done(() => resolve(value)),
      (error) => done(() => reject(error), error),
    );
  });
}

/** What the processing workers of a process share: whether (and since when) it is stopping, and what runs. */
export interface ProcessingState {
  shuttingDown: boolean;
  /** When the stop began (Date.now()), or null. */
  stoppingSince: number | null;
  running: Map<string, AbortController>;
}

export function createProcessingHandler(services: Services, state: ProcessingState) {
  const { database, boss, config } = services;
  const db = database.db;
  const binaries = resolveBinaries(config);
  const instance = deploymentTag(database);

  return async function handle([queueJob]: JobWithMetadata<ProcessingJobData>[]) {
    const handedAt = Date.now();
    const jobId = queueJob.data.jobId;
    const log = services.log.child({ jobId, queueJobId: queueJob.id });
    const started = await startAttempt(
      db,
      jobId,
      queueJob.id,
      { worker: `${os.hostname()}:${process.pid}`, queueRetryCount: queueJob.retryCount, scheduledFor: queueJob.startAfter },
      await services.lease.key(),
    );
    if (!started) return; // finished meanwhile (cancelled while queued, timed out…), or handed to a newer queue job: nothing to do
    let job = started.job;
    log.info({ attempt: job.attempt }, 'job attempt started');

    const controller = new AbortController();
    const stop = (reason: Error) => controller.abort(reason);
    state.running.set(jobId, controller);
    const deadlineMs = job.deadlineAt!.getTime() - Date.now();
    const deadlineTimer = setTimeout(() => stop(new DeadlineReached(`deadline of ${job.timeoutSeconds} s passed`)), Math.max(0, deadlineMs));
    const onQueueAbort = () => stop(state.shuttingDown ? new WorkerShuttingDown('worker shutting down') : new NoLongerOwned('queue claim lost'));
    queueJob.signal.addEventListener('abort', onQueueAbort);
    // Cancellation and stale attempts are noticed here within a second, whatever the stage is doing.
    const ownershipTimer = setInterval(async () => {
      try {
        const [row] = await db.select({ status: jobs.status, attempt: jobs.attempt }).from(jobs).where(eq(jobs.id, jobId));
        if (!row || row.status !== 'PROCESSING' || row.attempt !== job.attempt) stop(new NoLongerOwned(`job is ${row?.status ?? 'gone'}`));
      } catch {
        // a lost connection is the stage's problem to report, not the watchdog's
      }
    }, OWNERSHIP_CHECK_MS);

    try {
      if (deadlineMs <= 0) throw new DeadlineReached('deadline passed before this attempt started');
      await untilStopped(runStages(job, started.stages, controller.signal), controller.signal, (err) =>
        log.debug({ err, attempt: job.attempt }, 'the stopped attempt’s last step ended'),
      );
      const output = { files: await outputFilesWithUrls(services, jobId) };
      const done = await finishJob(db, boss, jobId, { status: 'COMPLETED', attempt: job.attempt, from: ['PROCESSING'], output });
      if (done) log.info({ attempt: job.attempt }, 'job completed');
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : null;
      if (reason instanceof DeadlineReached || error instanceof DeadlineReached) {
        const [current] = await db.select().from(jobs).where(eq(jobs.id, jobId));
        const timedOut = timeoutError(current ?? job);
        // A stage past its own timeoutSeconds says so; the job's deadline is worded by timeoutError.
        if (error instanceof StageTimedOut) timedOut.detail = error.message;
        await finishJob(db, boss, jobId, { status: 'TIMED_OUT', attempt: job.attempt, from: ['PROCESSING'], error: timedOut });
        log.warn({ attempt: job.attempt }, 'job timed out');
        return;
      }
      if (reason instanceof NoLongerOwned || error instanceof AttemptSupersededError) {
        log.info({ attempt: job.attempt, reason: String(reason ?? error) }, 'attempt stopped: job no longer owned by it');
        return;
      }
      const failure = toStageError(error);
      // A transient failure of an attempt that was running when the stop began is taken for the stop's
      // doing: a supervisor that signals every process of the service at once (systemd's
      // KillMode=control-group) kills ffmpeg beside vidq. The job is handed back like any other the stop
      // interrupts, without using a retry. An attempt started after the stop began (the queue is read
      // until the webhooks have stopped) fails as usual: a job handed back here and fetched again must
      // not go round without using its retries.
      const stoppedUnder = state.stoppingSince !== null && handedAt < state.stoppingSince;
      const byShutdown = reason instanceof WorkerShuttingDown || (stoppedUnder && failure.retryable && !(failure instanceof StageAbortedError));
      const stageError = byShutdown
        ? new StageError('SERVICE_UNAVAILABLE', 'The worker was shut down while the job ran; it is resumed by another worker.', true)
        : failure;
      if (stageError instanceof StageAbortedError) throw error; // aborted for an unknown reason: let pg-boss decide
      const [current] = await db.select().from(jobs).where(eq(jobs.id, jobId));
      if (current && current.attempt !== job.attempt) {
        // Another worker took the job meanwhile (this attempt's claim was lost): its attempt is not this one's to settle.
        log.info({ attempt: job.attempt, now: current.attempt }, 'attempt stopped: a newer attempt runs the job');
        return;
      }
      job = current ?? job;
      const jobError = jobErrorFrom(stageError, job.stage);
      if (byShutdown) {
        // Not the job's failure: it goes back to the queue at once, whatever retries it has left.
        await scheduleRetry(
          db,
          job,
          jobError,
          {
            attempt: job.attempt,
            reason: jobError.detail,
            retriesLeft: job.maxAttempts + 1 - job.attempt,
            backoff: 'none: resumed by another worker at once',
            // What failed, when the stop's signal reached the stage before vidq stopped it.
            ...(reason instanceof WorkerShuttingDown ? {} : { failure: failure.detail }),
          },
          (tx, row) => enqueueProcessing(services, tx, row),
        );
        log.warn({ err: reason instanceof WorkerShuttingDown ? undefined : error, attempt: job.attempt }, 'worker shutting down: job handed back to the queue');
        return;
      }
      if (!stageError.retryable) {
        await finishJob(db, boss, jobId, { status: 'FAILED', attempt: job.attempt, from: ['PROCESSING'], error: jobError });
        log.warn({ err: error, code: jobError.code }, 'job failed permanently');
        return;
      }
      // Both counts bound the retries: the queue job's, and the job's attempts (a crash hand-over may
      // give the job a new queue job, whose own count starts again).
      if (queueJob.retryCount < queueJob.retryLimit && job.attempt < job.maxAttempts) {
        await scheduleRetry(db, job, jobError, {
          attempt: job.attempt,
          reason: jobError.detail,
          // What bounds the retries bounds this count too (the queue job's may restart after a hand-over).
          retriesLeft: Math.min(queueJob.retryLimit - queueJob.retryCount, job.maxAttempts - job.attempt),
          backoff: `exponential from ${queueJob.retryDelay}s`,
        });
        log.warn({ err: error, attempt: job.attempt }, 'transient failure: retry scheduled');
        throw error; // pg-boss schedules the retry with backoff
      }
      await finishJob(db, boss, jobId, {
        status: 'FAILED',
        attempt: job.attempt,
        from: ['PROCESSING'],
        error: jobError,
        data: { retriesExhausted: true, attempts: job.attempt },
      });
      log.warn({ err: error, attempts: job.attempt }, 'job failed after its retries');
    } finally {
      clearTimeout(deadlineTimer);
      clearInterval(ownershipTimer);
      queueJob.signal.removeEventListener('abort', onQueueAbort);
      // A newer attempt of this job may run beside this one's end (a retryJob while it stopped): its entry stays.
      if (state.running.get(jobId) === controller) state.running.delete(jobId);
    }
  };

  async function runStages(job: JobRow, stageRows: StageRow[], signal: AbortSignal) {
    const [video] = await db.select().from(videos).where(eq(videos.id, job.videoId));
    if (!video) throw new StageError('VIDEO_NOT_FOUND', `Video '${job.videoId}' no longer exists.`, false);
    let workspace;
    try {
      workspace = await openJobWorkspace(services, job.id, job.attempt, video, signal);
    } catch (error) {
      throw toStageError(error);
    }
    try {
      await runStagesIn(workspace, job, video, stageRows, signal);
    } finally {
      await workspace.close();
    }
  }

  async function runStagesIn(workspace: JobWorkspace, job: JobRow, video: VideoRow, stageRows: StageRow[], signal: AbortSignal) {
    const names = stageRows.map((s) => s.name);
    const finished = new Set(stageRows.filter((s) => s.status === 'COMPLETED' || s.status === 'SKIPPED').map((s) => s.name));
    const previous: Record<string, unknown> = Object.fromEntries(stageRows.filter((s) => finished.has(s.name)).map((s) => [s.name, s.output]));

    const progress = new ProgressWriter(); // per job, across its stages
    for (const row of stageRows) {
      if (finished.has(row.name)) continue;
      signal.throwIfAborted();
      const stage = services.stages.stage(row.name)?.stage;
      if (!stage) throw new StageError('INTERNAL_ERROR', `Stage '${row.name}' is not available on this worker (check PIPELINES_FILE).`, true);
      const ctx = {
        jobId: job.id,
        attempt: job.attempt,
        instance,
        inputPath: workspace.inputPath,
        outputDir: workspace.outputDir,
        options: job.options,
        stageOptions: job.stageOptions[row.name] ?? {},
        scratchDir: workspace.scratchDir,
        log: services.log.child({ jobId: job.id, stage: row.name }),
        source: video.metadata,
        previous,
        binaries,
        signal,
        reportProgress(fraction: number) {
          progress.report(() =>
            recordProgress(db, job, row.name, fraction, jobProgress(names, finished, { name: row.name, fraction })).catch((error) => {
              if (error instanceof AttemptSupersededError) signal.throwIfAborted();
            }),
          );
        },
      };
      const skipReason = stage.shouldSkip?.(ctx) ?? null;
      if (skipReason) {
        finished.add(row.name);
        await markStageFinished(db, job, row.name, {
          status: 'SKIPPED',
          output: null,
          files: [],
          jobProgress: jobProgress(names, finished),
          data: { reason: skipReason },
        });
        continue;
      }
      await markStageStarted(db, job, row.name);
      job = { ...job, stage: row.name };
      const stageStarted = performance.now();
      const result = await stage.run(ctx).catch((error: unknown) => {
        metrics.stageDuration.observe({ stage: row.name, status: 'FAILED' }, (performance.now() - stageStarted) / 1000);
        throw error;
      });
      metrics.stageDuration.observe({ stage: row.name, status: 'COMPLETED' }, (performance.now() - stageStarted) / 1000);
      try {
        await workspace.store(result.files);
      } catch (error) {
        throw toStageError(error); // storage unreachable: transient, retried at this stage
      }
      await progress.settled();
      finished.add(row.name);
      previous[row.name] = result.output;
      await markStageFinished(db, job, row.name, {
        status: 'COMPLETED',
        output: result.output,
        files: result.files,
        jobProgress: jobProgress(names, finished),
      });
    }
  }
}
