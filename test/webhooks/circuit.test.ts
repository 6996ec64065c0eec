import { describe, expect, it } from 'vitest';
import { canSend, CLOSED_CIRCUIT, onDeliveryResult, type CircuitState } from '../../src/webhooks/circuit';

const t0 = new Date('2025-06-01T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const opts = { failureThreshold: 3, cooldownSeconds: 60 };

function failTimes(n: number, state: CircuitState = CLOSED_CIRCUIT) {
  let result = { next: state, opened: false, closed: false };
  for (let i = 0; i < n; i++) result = onDeliveryResult(result.next, false, t0, opts);
  return result;
}

describe('webhook circuit breaker', () => {
  it('stays closed and counts failures below the threshold', () => {
    const { next, opened } = failTimes(2);
    expect(next).toMatchObject({ state: 'CLOSED', consecutiveFailures: 2 });
    expect(opened).toBe(false);
    expect(canSend(next, t0)).toMatchObject({ send: true, probe: false });
  });

  it('resets the failure count after a success while closed', () => {
    const { next } = onDeliveryResult(failTimes(2).next, true, t0, opts);
    expect(next).toEqual(CLOSED_CIRCUIT);
    expect(failTimes(2, next).next.state).toBe('CLOSED');
  });

  it('opens after the threshold of consecutive failures and says it just opened', () => {
    const { next, opened, closed } = failTimes(3);
    expect(opened).toBe(true);
    expect(closed).toBe(false);
    expect(next).toEqual({ state: 'OPEN', consecutiveFailures: 3, openedAt: t0, nextProbeAt: at(60) });
  });

  it('uses a threshold of 5 and a cool-down of 60 s by default', () => {
    let state = CLOSED_CIRCUIT;
    for (let i = 0; i < 4; i++) state = onDeliveryResult(state, false, t0).next;
    expect(state.state).toBe('CLOSED');
    state = onDeliveryResult(state, false, t0).next;
    expect(state).toMatchObject({ state: 'OPEN', nextProbeAt: at(60) });
  });

  it('refuses deliveries during the cool-down and says when to come back', () => {
    const open = failTimes(3).next;
    expect(canSend(open, at(0))).toEqual({ send: false, waitUntil: at(60) });
    expect(canSend(open, at(59))).toEqual({ send: false, waitUntil: at(60) });
  });

  it('allows exactly one probe after the cool-down by moving to HALF_OPEN', () => {
    const open = failTimes(3).next;
    const decision = canSend(open, at(60), opts);
    expect(decision).toMatchObject({ send: true, probe: true });
    if (!decision.send) throw new Error('unreachable');
    expect(decision.next.state).toBe('HALF_OPEN');
    // A second sender that sees the saved HALF_OPEN state must wait for the probe's outcome.
    expect(canSend(decision.next, at(61), opts)).toEqual({ send: false, waitUntil: at(120) });
  });

  it('closes when the probe succeeds and says it just closed', () => {
    const decision = canSend(failTimes(3).next, at(60), opts);
    if (!decision.send) throw new Error('expected a probe');
    const { next, closed, opened } = onDeliveryResult(decision.next, true, at(61), opts);
    expect(closed).toBe(true);
    expect(opened).toBe(false);
    expect(next).toEqual(CLOSED_CIRCUIT);
    expect(canSend(next, at(61))).toMatchObject({ send: true, probe: false });
  });

  it('re-opens for a fresh cool-down when the probe fails', () => {
    const decision = canSend(failTimes(3).next, at(60), opts);
    if (!decision.send) throw new Error('expected a probe');
    const { next, opened } = onDeliveryResult(decision.next, false, at(62), opts);
    expect(opened).toBe(true);
    expect(next).toEqual({ state: 'OPEN', consecutiveFailures: 4, openedAt: at(62), nextProbeAt: at(122) });
    expect(canSend(next, at(100))).toEqual({ send: false, waitUntil: at(122) });
  });

  it('allows another probe when a probe never reported back within a cool-down', () => {
    const first = canSend(failTimes(3).next, at(60), opts);
    if (!first.send) throw new Error('expected a probe');
    expect(canSend(first.next, at(120), opts)).toMatchObject({ send: true, probe: true });
  });

  it('counts a late failure while open without extending the cool-down', () => {
    const open = failTimes(3).next;
    const { next, opened } = onDeliveryResult(open, false, at(30), opts);
    expect(opened).toBe(false);
    expect(next).toMatchObject({ state: 'OPEN', consecutiveFailures: 4, nextProbeAt: at(60) });
  });
});
