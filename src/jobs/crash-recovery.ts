// A job whose worker died is handed on as soon as PostgreSQL has ended the worker's session: its
// lease (src/db/process-lease.ts) is gone. Run by every worker process twice a second; only
// reads while nothing has crashed. What it keeps true: a PROCESSING job whose worker is dead always
// has a queue job that will run it, now. The next attempt resumes at the first unfinished stage, as
// after any retry; a crash counts as one of the job's automatic attempts (a job that kills its worker
// every time must end, not loop). pg-boss's heartbeat stays the backstop for a worker that is alive
// but whose session PostgreSQL still believes in.
import { createHash, randomUUID } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { jobs } from '../db/schema/index';
import { ERROR_CATALOG } from '../errors/catalog';
import { handBackToQueue, type HandBackResult } from '../queue/hand-back';
import { leaseHeldSql } from '../db/process-lease';
import { processingQueue } from '../queue/queues';
import type { Services } from '../services';
import { killProcesses, killStageProcesses, stageProcesses } from '../pipeline/external/orphans';
import { enqueueProcessing } from './submit';
import { finishJob } from './transitions';

const LOST = 'the worker running this attempt died (its database session ended)';
const DIED = 'The worker running attempt {attempt} stopped (crash, kill or lost database)';
const STRANDED = 'Attempt {attempt} stopped without recording its end (its queue claim was lost, or the database failed as it ended)';

interface Orphan {
  id: string;
  pipeline: string;
  queue_job_id: string | null;
  worker_lock: number;
  attempt: number;
  max_attempts: number;
  stage: string | null;
}

/** A PROCESSING job whose attempt is over, as the sweeps hand it on. */
type AttemptOver = Omit<Orphan, 'worker_lock'>;

export async function handOnOrphanedJobs(services: Services): Promise<string[]> {
  const { database, log } = services;
  const orphaned = await database.sql<Orphan[]>`
    select id, pipeline, queue_job_id, worker_lock, attempt, max_attempts, stage from jobs
    where status = 'PROCESSING' and worker_lock is not null and not (${database.sql.unsafe(leaseHeldSql('worker_lock'))})`;
  if (!orphaned.length) return [];
  const mine = await services.lease.key();
  const handed: string[] = [];
  for (const row of orphaned) {
    // The sweep takes the job under its own lease: the other sweeps leave it, and if this worker dies
    // in the middle of the hand-over, the job is an orphan again for them.
    const [claimed] = await database.db
      .update(jobs)
      .set({ workerLock: mine })
      .where(and(eq(jobs.id, row.id), eq(jobs.status, 'PROCESSING'), eq(jobs.attempt, row.attempt), eq(jobs.workerLock, row.worker_lock)))
      .returning({ id: jobs.id });
    if (!claimed) continue;
    // What its external stage started lives on after the dead worker; end it before the job moves on.
    const killed = await killStageProcesses(row.id, row.attempt);
    if (killed.length) log.warn({ jobId: row.id, attempt: row.attempt, pids: killed }, 'ended processes the dead worker’s stage left running');
    const outcome = row.queue_job_id ? await handBackToQueue(services.boss, processingQueue(row.pipeline), row.queue_job_id, LOST) : 'not-running';
    await moveOn(services, row, mine, outcome, DIED);
    log.warn({ jobId: row.id, attempt: row.attempt, outcome }, 'job orphaned by a dead worker: handed on');
    handed.push(row.id);
  }
  return handed;
}

/** A queue job settled this long ago, its job still PROCESSING, is no hand-over in progress. */
const STRANDED_AFTER_SECONDS = 60;

/**
 * Jobs left PROCESSING by a worker that lives on, with no queue job left to run them (and QUEUED jobs
 * whose queue job ended: they get a new one): the queue took the
 * claim away (missed heartbeats, or an operator's fail(), on the last retry: the attempt stops as "no
 * longer owned"), the attempt's end could not be recorded (the database failed in its last moment), or
 * a hand-over stopped half-way. Nothing else would ever touch them: no deadline, no event, credits held.
 * Each moves on as after a crash: a new queue job while attempts are left, else FAILED. Run by the
 * maintenance job (src/maintenance.ts).
 */
export async function handOnStrandedJobs(services: Services): Promise<string[]> {
  const { database, log } = services;
  const candidates = await database.sql<Candidate[]>`
    select id, status, pipeline, queue_job_id, worker_lock, attempt, max_attempts, stage, now() as db_now from jobs
    where status in ('PROCESSING', 'QUEUED') and updated_at < now() - ${STRANDED_AFTER_SECONDS} * interval '1 second'`;
  const handed: string[] = [];
  for (const row of candidates) {
    // One job that cannot be handled (a pipeline removed from PIPELINES_FILE: its queue is gone) does
    // not hold back the others.
    try {
      if (await handOnIfStranded(services, row)) handed.push(row.id);
    } catch (err) {
      log.warn({ err, jobId: row.id }, 'could not check or hand on a job that may be stranded; the next maintenance run tries again');
    }
  }
  return handed;
}

type Candidate = Omit<Orphan, 'worker_lock'> & { status: 'PROCESSING' | 'QUEUED'; worker_lock: number | null; db_now: Date | string };

async function handOnIfStranded(services: Services, row: Candidate): Promise<boolean> {
  const { database, log } = services;
  const queued = row.queue_job_id ? await services.boss.getJobById(processingQueue(row.pipeline), row.queue_job_id) : null;
  if (queued && !['completed', 'failed', 'cancelled'].includes(queued.state)) return false; // waiting, or running
  // Both times are the database's: a worker's clock off by a minute cannot shorten the grace.
  if (queued?.completedOn && new Date(row.db_now).getTime() - new Date(queued.completedOn).getTime() < STRANDED_AFTER_SECONDS * 1000) return false;
  if (row.status === 'QUEUED') return requeueQueued(services, row, queued?.state ?? 'gone');
  const mine = await services.lease.key();
  const [claimed] = await database.db
    .update(jobs)
    .set({ workerLock: mine })
    .where(
      and(
        eq(jobs.id, row.id),
        eq(jobs.status, 'PROCESSING'),
        eq(jobs.attempt, row.attempt),
        row.worker_lock === null ? isNull(jobs.workerLock) : eq(jobs.workerLock, row.worker_lock),
      ),
    )
    .returning({ id: jobs.id });
  if (!claimed) return false;
  const outcome = queued?.state === 'failed' ? 'exhausted' : 'not-running';
  await moveOn(services, row, mine, outcome, STRANDED);
  log.warn({ jobId: row.id, attempt: row.attempt, queueState: queued?.state ?? 'gone', outcome }, 'job stranded with no queue job to run it: handed on');
  return true;
}

/** A QUEUED job whose queue job ended (a retry the queue lost): a new queue job, due now. */
async function requeueQueued(services: Services, row: Candidate, queueState: string): Promise<boolean> {
  const moved = await services.database.db.transaction(async (tx) => {
    const [job] = await tx
      .update(jobs)
      .set({ queueJobId: randomUUID(), updatedAt: sql`now()` })
      .where(and(eq(jobs.id, row.id), eq(jobs.status, 'QUEUED'), row.queue_job_id === null ? isNull(jobs.queueJobId) : eq(jobs.queueJobId, row.queue_job_id)))
      .returning();
    if (job) await enqueueProcessing(services, tx, job);
    return Boolean(job);
  });
  if (moved) services.log.warn({ jobId: row.id, queueState }, 'queued job whose queue job had ended: given a new one');
  return moved;
}

/** A claimed job whose attempt is over: retried by the queue, given a new queue job, or failed for good. */
async function moveOn(services: Services, row: AttemptOver, sweeper: number, outcome: HandBackResult, why: string) {
  if (outcome === 'exhausted' || (outcome === 'not-running' && row.attempt >= row.max_attempts)) await failForGood(services, row, why);
  else if (outcome === 'not-running') await requeue(services, row, sweeper);
}

/** Its queue job already ended (the dying attempt settled it, or it was removed): a new one, due now. */
async function requeue(services: Services, row: AttemptOver, sweeper: number) {
  await services.database.db.transaction(async (tx) => {
    const [job] = await tx
      .update(jobs)
      .set({ queueJobId: randomUUID(), updatedAt: sql`now()` })
      .where(and(eq(jobs.id, row.id), eq(jobs.status, 'PROCESSING'), eq(jobs.attempt, row.attempt), eq(jobs.workerLock, sweeper)))
      .returning();
    if (job) await enqueueProcessing(services, tx, job);
  });
}

async function failForGood(services: Services, row: AttemptOver, why: string) {
  await finishJob(services.database.db, services.boss, row.id, {
    status: 'FAILED',
    attempt: row.attempt,
    from: ['PROCESSING'],
    error: {
      code: 'SERVICE_UNAVAILABLE',
      message: ERROR_CATALOG.SERVICE_UNAVAILABLE.message,
      detail: `${why.replace('{attempt}', String(row.attempt))} and no automatic retries are left; retryJob runs it again from its last finished stage.`,
      stage: row.stage,
      retryable: true,
    },
    data: { retriesExhausted: true, attempts: row.attempt },
  });
}

/**
 * The deployment's tag in its stage processes' environment (VIDQ_INSTANCE): its database's address and
 * name, hashed (no credentials). Two deployments on one machine never end each other's stages.
 */
export function deploymentTag(database: Pick<Services['database'], 'url'>): string {
  // The whole URL but its credentials: ?host=/run/a and ?host=/run/b (two servers on Unix sockets) differ.
  // Two spellings of one database give two tags: each worker then leaves the other's processes alone.
  const url = new URL(database.url);
  url.username = '';
  url.password = '';
  url.searchParams.delete('password');
  url.searchParams.sort();
  return createHash('sha256').update(url.toString()).digest('hex').slice(0, 16);
}

/**
 * Ends what stages of this deployment left running on this machine for attempts that are over: the
 * leader dies with a SIGKILLed worker, but its own children live on, and a job handed on by a worker on
 * another machine is not this machine's to clean (handOnOrphanedJobs ends them only where it runs). A
 * process of an attempt still PROCESSING is left alone. Run by every worker at start and each minute.
 */
export async function killLeftoverStageProcesses(services: Pick<Services, 'database' | 'log'>): Promise<number[]> {
  const tag = deploymentTag(services.database);
  const ours = (await stageProcesses()).filter((p) => p.instance === tag);
  if (!ours.length) return [];
  const running = await services.database.sql<{ id: string; attempt: number }[]>`
    select id, attempt from jobs where id in ${services.database.sql([...new Set(ours.map((p) => p.jobId))])} and status = 'PROCESSING'`;
  const live = new Set(running.map((row) => `${row.id}#${row.attempt}`));
  const leftovers = ours.filter((p) => !live.has(`${p.jobId}#${p.attempt}`));
  const killed = killProcesses(leftovers.map((p) => p.pid));
  if (killed.length) {
    services.log.warn(
      { processes: leftovers.filter((p) => killed.includes(p.pid)).map(({ pid, jobId, attempt }) => ({ pid, jobId, attempt })) },
      'ended stage processes left running by attempts that are over (their worker died)',
    );
  }
  return killed;
}
