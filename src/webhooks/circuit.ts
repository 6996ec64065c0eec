// Per-endpoint circuit breaker, as pure decisions over state stored on the endpoint's row. It
// stops us hammering (and queueing retries for) an endpoint that is clearly down: after
// `failureThreshold` consecutive failures the circuit OPENs for `cooldownSeconds`; then exactly
// one probe delivery is let through (HALF_OPEN); its success CLOSEs the circuit, its failure
// re-OPENs it for another cool-down.
//
// "Exactly one probe" across several workers needs the caller to persist the HALF_OPEN state from
// canSend() with a compare-and-set (e.g. UPDATE ... WHERE circuit_state = 'OPEN' AND
// next_probe_at <= now()), and send only if that update hit the row.

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitState {
  state: CircuitStateName;
  consecutiveFailures: number;
  openedAt: Date | null;
  /** OPEN: when the probe may go. HALF_OPEN: when the probe is presumed lost and another may go. */
  nextProbeAt: Date | null;
}

export interface CircuitOptions {
  failureThreshold?: number;
  cooldownSeconds?: number;
}

export const CLOSED_CIRCUIT: CircuitState = Object.freeze({
  state: 'CLOSED',
  consecutiveFailures: 0,
  openedAt: null,
  nextProbeAt: null,
}) as CircuitState;

const addSeconds = (d: Date, s: number) => new Date(d.getTime() + s * 1000);

/**
 * May a delivery go now? When it may and this is the probe, `next` is the HALF_OPEN state the
 * caller must save before sending (`probe: true`); otherwise `next` is `state` unchanged.
 * The probe holds a lease of one cool-down, so a probe lost to a crashed worker does not wedge
 * the endpoint forever.
 */
export function canSend(
  state: CircuitState,
  now: Date,
  { cooldownSeconds = 60 }: CircuitOptions = {},
): { send: true; probe: boolean; next: CircuitState } | { send: false; waitUntil: Date } {
  if (state.state === 'CLOSED') return { send: true, probe: false, next: state };
  if (state.nextProbeAt && now < state.nextProbeAt) return { send: false, waitUntil: state.nextProbeAt };
  return {
    send: true,
    probe: true,
    next: { ...state, state: 'HALF_OPEN', nextProbeAt: addSeconds(now, cooldownSeconds) },
  };
}

/** Folds one delivery outcome into the state; `opened`/`closed` say whether to alert or log. */
export function onDeliveryResult(
  state: CircuitState,
  ok: boolean,
  now: Date,
  { failureThreshold = 5, cooldownSeconds = 60 }: CircuitOptions = {},
): { next: CircuitState; opened: boolean; closed: boolean } {
  if (ok) {
    // Any success proves the endpoint works, including a late one that was in flight while OPEN.
    return { next: { ...CLOSED_CIRCUIT }, opened: false, closed: state.state !== 'CLOSED' };
  }
  const failures = state.consecutiveFailures + 1;
  const open = (): { next: CircuitState; opened: boolean; closed: boolean } => ({
    next: { state: 'OPEN', consecutiveFailures: failures, openedAt: now, nextProbeAt: addSeconds(now, cooldownSeconds) },
    opened: true,
    closed: false,
  });
  switch (state.state) {
    case 'CLOSED':
      return failures >= failureThreshold ? open() : { next: { ...state, consecutiveFailures: failures }, opened: false, closed: false };
    case 'HALF_OPEN':
      return open(); // the probe failed: another full cool-down
    case 'OPEN':
      // A straggler that was in flight when the circuit opened: count it, keep the schedule.
      return { next: { ...state, consecutiveFailures: failures }, opened: false, closed: false };
  }
}
