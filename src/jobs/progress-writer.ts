// A job's PROGRESS events, a few per second at most: one write at a time, and the next one no sooner
// than PROGRESS_INTERVAL_MS after the previous one has committed. An event's `at` is its transaction's
// start on PostgreSQL's clock, so spacing the reports when they are made is not enough: a write slow to
// get a connection would start late and land next to the one after it. A report made while a write is in
// flight, or too soon after one, is dropped: a newer one follows (and the stage's end is recorded anyway).

export const PROGRESS_INTERVAL_MS = 500;

export class ProgressWriter {
  private writing = false;
  private nextAt = 0;
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly intervalMs = PROGRESS_INTERVAL_MS) {}

  /** Runs `write` unless a write is in flight or the last one committed less than the interval ago. */
  report(write: () => Promise<void>): void {
    if (this.writing || Date.now() < this.nextAt) return;
    this.writing = true;
    this.last = write().finally(() => {
      this.writing = false;
      this.nextAt = Date.now() + this.intervalMs;
    });
    this.last.catch(() => {}); // seen by settled(), not an unhandled rejection meanwhile
  }

  /** The last write: awaited before a stage is checkpointed (it rejects if that write did). */
  settled(): Promise<void> {
    return this.last;
  }
}
