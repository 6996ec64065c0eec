// The spacing of PROGRESS events holds even when a write is slow: the next write waits for the previous
// one to commit, then the interval (fake timers: what is checked is the order, not a speed).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressWriter } from '../../src/jobs/progress-writer';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A write that stays in flight until `commit()`. */
function slowWrites() {
  const started: number[] = [];
  const pending: Array<() => void> = [];
  return {
    started,
    write: () => {
      started.push(Date.now());
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    commit: async () => {
      pending.shift()!();
      await vi.advanceTimersByTimeAsync(0); // let the write's finally run
    },
  };
}

describe('ProgressWriter', () => {
  it('drops reports while a write is in flight, and for the interval after it commits', async () => {
    const writer = new ProgressWriter(500);
    const db = slowWrites();
    writer.report(db.write);
    await vi.advanceTimersByTimeAsync(800); // the write is slow: the interval has passed, but it has not committed
    writer.report(db.write);
    expect(db.started).toHaveLength(1);

    await db.commit();
    await vi.advanceTimersByTimeAsync(499);
    writer.report(db.write);
    expect(db.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    writer.report(db.write);
    expect(db.started).toHaveLength(2);
    expect(db.started[1]! - db.started[0]!).toBe(1300);
    await db.commit();
    await expect(writer.settled()).resolves.toBeUndefined();
  });

  it('hands a failed write to whoever waits for it', async () => {
    const writer = new ProgressWriter(500);
    writer.report(() => Promise.reject(new Error('superseded')));
    await expect(writer.settled()).rejects.toThrow('superseded');
  });
});
