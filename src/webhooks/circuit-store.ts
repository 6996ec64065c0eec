// The circuit breaker's state lives on the endpoint row, shared by every worker. circuit.ts decides;
// this file reads and writes, with the compare-and-set that lets exactly one worker probe, and raises
// the operator alert when a circuit opens.
import { and, eq, ne, or, sql } from 'drizzle-orm';
import { raiseAlert } from '../alerts/alerts';
import type { Db, DbOrTx } from '../db/client';
import { webhookEndpoints } from '../db/schema/index';
import { type CircuitOptions, type CircuitState, type CircuitStateName, onDeliveryResult } from './circuit';

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export function circuitOf(e: Pick<EndpointRow, 'circuitState' | 'consecutiveFailures' | 'circuitOpenedAt' | 'nextProbeAt'>): CircuitState {
  return {
    state: e.circuitState as CircuitStateName,
    consecutiveFailures: e.consecutiveFailures,
    openedAt: e.circuitOpenedAt,
    nextProbeAt: e.nextProbeAt,
  };
}

function columnsOf(c: CircuitState) {
  return { circuitState: c.state, consecutiveFailures: c.consecutiveFailures, circuitOpenedAt: c.openedAt, nextProbeAt: c.nextProbeAt };
}

/**
 * Takes the probe: saves `next` (HALF_OPEN with a lease) only if the circuit is still exactly as it
 * was read, so of several workers that saw the cool-down pass, one wins and the others wait.
 */
export async function claimProbe(db: Db, endpoint: EndpointRow, next: CircuitState): Promise<boolean> {
  const seen = endpoint.nextProbeAt;
  const updated = await db
    .update(webhookEndpoints)
    .set({ ...columnsOf(next), updatedAt: sql`now()` })
    .where(
      and(
        eq(webhookEndpoints.id, endpoint.id),
        eq(webhookEndpoints.circuitState, endpoint.circuitState),
        seen ? eq(webhookEndpoints.nextProbeAt, seen) : sql`${webhookEndpoints.nextProbeAt} is null`,
      ),
    )
    .returning({ id: webhookEndpoints.id });
  return updated.length === 1;
}

export interface FoldContext {
  options: Required<CircuitOptions>;
  timeoutMs: number;
}

/**
 * Folds one attempt's outcome into the endpoint's circuit, in the caller's transaction. A success on
 * a closed, clean circuit changes nothing and takes no lock (the common case under load).
 */
export async function recordCircuitResult(
  tx: DbOrTx,
  endpointId: string,
  ok: boolean,
  ctx: FoldContext,
): Promise<{ opened: boolean; closed: boolean; state: CircuitState | null }> {
  const now = new Date();
  if (ok) {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ circuitState: 'CLOSED', consecutiveFailures: 0, circuitOpenedAt: null, nextProbeAt: null, updatedAt: sql`now()` })
      .where(and(eq(webhookEndpoints.id, endpointId), or(ne(webhookEndpoints.circuitState, 'CLOSED'), ne(webhookEndpoints.consecutiveFailures, 0))))
      .returning({ id: webhookEndpoints.id });
    return { opened: false, closed: Boolean(row), state: null };
  }
  const [endpoint] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId)).for('update');
  if (!endpoint) return { opened: false, closed: false, state: null };
  const before = circuitOf(endpoint);
  const { next, opened } = onDeliveryResult(before, false, now, ctx.options);
  await tx
    .update(webhookEndpoints)
    .set({ ...columnsOf(next), updatedAt: sql`now()` })
    .where(eq(webhookEndpoints.id, endpointId));
  // Alert when a healthy endpoint breaks, not again on every failed probe while it stays down.
  if (opened && before.state === 'CLOSED') {
    const until = next.nextProbeAt!.toISOString();
    const seconds = Math.max(1, Math.round(ctx.timeoutMs / 1000));
    await raiseAlert(tx, {
      kind: 'WEBHOOK_CIRCUIT_OPEN',
      code: 'WEBHOOK_DELIVERY_FAILED',
      ownerId: endpoint.ownerId,
      endpointId: endpoint.id,
      message: `Webhook endpoint ${endpoint.id} (${endpoint.url}) failed ${next.consecutiveFailures} delivery attempts in a row; its circuit is open and its deliveries wait until ${until}.`,
      nextStep:
        `Check that ${endpoint.url} is reachable and answers 2xx within ${seconds} second${seconds === 1 ? '' : 's'} (the endpoint's ` +
        `deliveries show each attempt's status code and error). vidq sends one probe at ${until}; a success closes the circuit ` +
        'and the waiting deliveries follow. sendTestWebhook checks a fix at once.',
      data: { url: endpoint.url, consecutiveFailures: next.consecutiveFailures, nextProbeAt: until },
    });
  }
  return { opened, closed: false, state: next };
}
