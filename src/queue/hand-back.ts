// Hands a running pg-boss job whose worker is known to be dead back to the queue at once, instead of
// waiting for its missed heartbeats. It goes through pg-boss's own fail() (fenced to the attempt that
// was running, so two workers handing the same job back do it once, and the dead attempt can never
// settle the next one) and then pulls the retry forward to now (update() notifies the workers).
import type { PgBoss } from 'pg-boss';

/** `retrying`: runnable now; `exhausted`: it had no retries left and is failed in the queue; `not-running`: nothing to do. */
export type HandBackResult = 'retrying' | 'exhausted' | 'not-running';

export async function handBackToQueue(boss: PgBoss, queue: string, queueJobId: string, reason: string): Promise<HandBackResult> {
  let job = await boss.getJobById(queue, queueJobId);
  if (job?.state === 'active') {
    await boss.fail(queue, { id: queueJobId, retryCount: job.retryCount }, { message: reason });
    job = await boss.getJobById(queue, queueJobId);
  }
  if (job?.state === 'retry' || job?.state === 'created') {
    await boss.update(queue, undefined, { id: queueJobId, startAfter: 0 });
    return 'retrying';
  }
  return job?.state === 'failed' ? 'exhausted' : 'not-running';
}
