import { describe, expect, it } from 'vitest';
import { parseRetryAfter, webhookRetryDelaySeconds } from '../../src/webhooks/backoff';

describe('webhook retry backoff', () => {
  it('doubles from the base for each retry: 1 s, 2 s, 4 s by default', () => {
    expect([1, 2, 3].map((n) => webhookRetryDelaySeconds(n, null))).toEqual([1, 2, 4]);
  });

  it('uses the configured base so tests can retry within milliseconds', () => {
    expect([1, 2, 3].map((n) => webhookRetryDelaySeconds(n, null, { baseSeconds: 0.05 }))).toEqual([0.05, 0.1, 0.2]);
    expect(webhookRetryDelaySeconds(3, null, { baseSeconds: 30 })).toBe(120);
  });

  it('caps the exponential delay at maxSeconds', () => {
    expect(webhookRetryDelaySeconds(20, null)).toBe(3600);
    expect(webhookRetryDelaySeconds(3, null, { baseSeconds: 10, maxSeconds: 25 })).toBe(25);
    expect(webhookRetryDelaySeconds(5000, null)).toBe(3600);
  });

  it('waits longer when a Retry-After asks for more than the exponential delay', () => {
    expect(webhookRetryDelaySeconds(1, 7)).toBe(7);
    expect(webhookRetryDelaySeconds(3, 7)).toBe(7);
  });

  it('does not let a shorter Retry-After ("0", "1") use up the retries within seconds', () => {
    expect(webhookRetryDelaySeconds(2, 0)).toBe(2);
    expect([1, 2, 3].map((n) => webhookRetryDelaySeconds(n, 1, { baseSeconds: 30 }))).toEqual([30, 60, 120]);
  });

  it('bounds a huge Retry-After by maxSeconds (one hour by default)', () => {
    expect(webhookRetryDelaySeconds(1, 86_400)).toBe(3600);
    expect(webhookRetryDelaySeconds(1, 600, { maxSeconds: 300 })).toBe(300);
  });

  it('rejects attempt numbers below 1 because attempt 0 is the first delivery, not a retry', () => {
    expect(() => webhookRetryDelaySeconds(0, null)).toThrow(RangeError);
    expect(() => webhookRetryDelaySeconds(1.5, null)).toThrow(RangeError);
  });
});

describe('Retry-After parsing', () => {
  const now = new Date('2025-06-01T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
  });

  it('reads an HTTP date as the seconds remaining from now, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:01:30 GMT', now)).toBe(90);
    expect(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0);
  });

  it('returns null for a missing or unparsable header', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBeNull();
  });
});
