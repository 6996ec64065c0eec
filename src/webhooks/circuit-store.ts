// Where a circuit breaker's state lives, shared by every worker: on the endpoint's row for an
// endpoint, in webhook_url_circuits (per owner and URL) for a job's own webhookUrl. circuit.ts
// decides; this file reads and writes, with the compare-and-set that lets exactly one worker probe,
// and raises the operator alert when a circuit opens.
import { and, eq, ne, or, sql } from 'drizzle-orm';
import { raiseAlert } from '../alerts/alerts';
import type { Db, DbOrTx } from '../db/client';
import { webhookEndpoints, webhookUrlCircuits } from '../db/schema/index';
import { CLOSED_CIRCUIT, type CircuitOptions, type CircuitState, type CircuitStateName, onDeliveryResult } from './circuit';
import { urlOrigin } from './redact-url';
import type { EndpointRow } from '../db/schema/index';

/** Whose circuit: an endpoint's, or the URL a user's jobs name in webhookUrl. */
export type CircuitTarget = { kind: 'endpoint'; endpointId: string } | { kind: 'url'; ownerId: string; url: string };

type CircuitColumns = Pick<EndpointRow, 'circuitState' | 'consecutiveFailures' | 'circuitOpenedAt' | 'nextProbeAt'>;

export function circuitOf(e: CircuitColumns): CircuitState {
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

const urlRow = (t: { ownerId: string; url: string }) => and(eq(webhookUrlCircuits.ownerId, t.ownerId), eq(webhookUrlCircuits.url, t.url));

/** The circuit now (a URL without a row is closed and clean); null for an endpoint that is gone. */
export async function readCircuit(db: DbOrTx, target: CircuitTarget): Promise<CircuitState | null> {
  if (target.kind === 'endpoint') {
    const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, target.endpointId));
    return row ? circuitOf(row) : null;
  }
  const [row] = await db.select().from(webhookUrlCircuits).where(urlRow(target));
  return row ? circuitOf(row) : { ...CLOSED_CIRCUIT };
}

/**
 * Takes the probe: saves `next` (HALF_OPEN with a lease) only if the circuit is still exactly as it
 * was read (`seen`), so of several workers that saw the cool-down pass, one wins and the others wait.
 */
export async function claimProbe(db: Db, target: CircuitTarget, seen: CircuitState, next: CircuitState): Promise<boolean> {
  const table = target.kind === 'endpoint' ? webhookEndpoints : webhookUrlCircuits;
  const unchanged = and(eq(table.circuitState, seen.state), seen.nextProbeAt ? eq(table.nextProbeAt, seen.nextProbeAt) : sql`${table.nextProbeAt} is null`);
  const where = target.kind === 'endpoint' ? and(eq(webhookEndpoints.id, target.endpointId), unchanged) : and(urlRow(target), unchanged);
  const updated = await db
    .update(table)
    .set({ ...columnsOf(next), updatedAt: sql`now()` })
    .where(where)
    .returning({ state: table.circuitState });
  return updated.length === 1;
}

export interface FoldContext {
  options: Required<CircuitOptions>;
  timeoutMs: number;
}

/** The circuit's row, locked for the caller's transaction (a URL's is created closed if missing). */
async function lockCircuit(
  tx: DbOrTx,
  target: CircuitTarget,
): Promise<{ state: CircuitState; ownerId: string; url: string; endpointId: string | null } | null> {
  if (target.kind === 'endpoint') {
    const [row] = await tx.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, target.endpointId)).for('update');
    return row ? { state: circuitOf(row), ownerId: row.ownerId, url: row.url, endpointId: row.id } : null;
  }
  // A success to the URL, or the sweep of idle circuits (housekeeping.ts), may delete the row between
  // the two statements (each sees what is committed when it starts): then it is inserted again.
  for (let tries = 1; ; tries++) {
    await tx.insert(webhookUrlCircuits).values({ ownerId: target.ownerId, url: target.url }).onConflictDoNothing();
    const [row] = await tx.select().from(webhookUrlCircuits).where(urlRow(target)).for('update');
    if (row) return { state: circuitOf(row), ownerId: target.ownerId, url: target.url, endpointId: null };
    if (tries === 3) throw new Error('the circuit of a webhookUrl was deleted three times while it was being locked');
  }
}

/**
 * Folds one attempt's outcome into the circuit, in the caller's transaction. A success on a closed,
 * clean circuit changes nothing and takes no lock (the common case under load).
 */
export async function recordCircuitResult(
  tx: DbOrTx,
  target: CircuitTarget,
  ok: boolean,
  ctx: FoldContext,
): Promise<{ opened: boolean; closed: boolean; state: CircuitState | null }> {
  const now = new Date();
  if (ok) {
    const closed =
      target.kind === 'endpoint'
        ? await tx
            .update(webhookEndpoints)
            .set({ circuitState: 'CLOSED', consecutiveFailures: 0, circuitOpenedAt: null, nextProbeAt: null, updatedAt: sql`now()` })
            .where(
              and(eq(webhookEndpoints.id, target.endpointId), or(ne(webhookEndpoints.circuitState, 'CLOSED'), ne(webhookEndpoints.consecutiveFailures, 0))),
            )
            .returning({ id: webhookEndpoints.id })
        : await tx
            .delete(webhookUrlCircuits)
            .where(and(urlRow(target), or(ne(webhookUrlCircuits.circuitState, 'CLOSED'), ne(webhookUrlCircuits.consecutiveFailures, 0))))
            .returning({ url: webhookUrlCircuits.url });
    return { opened: false, closed: closed.length > 0, state: null };
  }
  const circuit = await lockCircuit(tx, target);
  if (!circuit) return { opened: false, closed: false, state: null };
  const before = circuit.state;
  const { next, opened } = onDeliveryResult(before, false, now, ctx.options);
  if (target.kind === 'endpoint') {
    await tx
      .update(webhookEndpoints)
      .set({ ...columnsOf(next), updatedAt: sql`now()` })
      .where(eq(webhookEndpoints.id, target.endpointId));
  } else {
    await tx
      .update(webhookUrlCircuits)
      .set({ ...columnsOf(next), updatedAt: sql`now()` })
      .where(urlRow(target));
  }
  // Alert when a healthy receiver breaks, not again on every failed probe while it stays down.
  if (opened && before.state === 'CLOSED') await raiseCircuitOpenAlert(tx, circuit, next, ctx);
  return { opened, closed: false, state: next };
}

// The alert is POSTed to the operator's chat channel and kept in its history, so it names the URL by
// its origin only (a receiver's path or query often carries its token). The endpoint id, or the owner
// and that origin for a job's webhookUrl, is enough for an admin to find what broke and whose it is.
async function raiseCircuitOpenAlert(tx: DbOrTx, circuit: { ownerId: string; url: string; endpointId: string | null }, next: CircuitState, ctx: FoldContext) {
  const until = next.nextProbeAt!.toISOString();
  const seconds = Math.max(1, Math.round(ctx.timeoutMs / 1000));
  const origin = urlOrigin(circuit.url);
  const what = circuit.endpointId
    ? `Webhook endpoint ${circuit.endpointId} (at ${origin}) of owner ${circuit.ownerId}`
    : `The webhookUrl at ${origin} of owner ${circuit.ownerId}'s jobs`;
  const target = circuit.endpointId ? `endpoint ${circuit.endpointId}'s URL (at ${origin})` : `the jobs' webhookUrl (at ${origin})`;
  const where = circuit.endpointId ? "the endpoint's deliveries show" : "the jobs' webhookDeliveries show";
  await raiseAlert(tx, {
    kind: 'WEBHOOK_CIRCUIT_OPEN',
    code: 'WEBHOOK_DELIVERY_FAILED',
    ownerId: circuit.ownerId,
    endpointId: circuit.endpointId,
    message: `${what} failed ${next.consecutiveFailures} delivery attempts in a row; its circuit is open and its deliveries wait until ${until}.`,
    nextStep:
      `Check that ${target} is reachable and answers 2xx within ${seconds} second${seconds === 1 ? '' : 's'} (${where} ` +
      `each attempt's status code and error). vidq sends one probe at ${until}; a success closes the circuit ` +
      `and the waiting deliveries follow.${circuit.endpointId ? ' sendTestWebhook checks a fix at once.' : ''}`,
    data: {
      endpointId: circuit.endpointId,
      ownerId: circuit.ownerId,
      urlOrigin: origin,
      consecutiveFailures: next.consecutiveFailures,
      nextProbeAt: until,
    },
  });
}
