// The slot counter on its own, as several API processes use it: one lease and one counter per
// "process", all on one real database.
import { describe, expect, it } from 'vitest';
import { SlotCounter } from '../../src/limits/slots';
import { databaseWithLeases, silentLog as log } from '../helpers/leases';

const shared = databaseWithLeases();

async function process(cap: number) {
  const lease = await shared.takeLease('vidq-test-lease');
  return { lease, slots: new SlotCounter(shared.db().sql, lease, { ws: cap, sse: cap, upload: cap }, log) };
}

async function row(keyId: string) {
  const [r] = await shared.db().sql`select n, holders from limit_slots where kind = 'ws' and key_id = ${keyId}`;
  return r ?? null;
}

const granted = (results: boolean[]) => results.filter(Boolean).length;

describe('slots', () => {
  it('grant exactly the cap to many takes at once from several processes, and come back to zero', async () => {
    const [p1, p2, p3] = await Promise.all([process(7), process(7), process(7)]);
    const results = await Promise.all([p1, p2, p3].flatMap((p) => Array.from({ length: 10 }, () => p.slots.acquire('ws', 'key_many'))));
    expect(granted(results)).toBe(7);
    const r = await row('key_many');
    expect(r.n).toBe(7);
    expect(Object.values(r.holders as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(7);
    for (const p of [p1, p2, p3]) expect(r.holders[String(p.lease.id)] ?? 0).toBe(p.slots.heldHere('ws', 'key_many'));

    for (const p of [p1, p2, p3]) for (let i = p.slots.heldHere('ws', 'key_many'); i > 0; i--) p.slots.release('ws', 'key_many');
    await expect.poll(async () => (await row('key_many')).n).toBe(0);
    expect((await row('key_many')).holders).toEqual({});
    // And the cap is whole again.
    expect(granted(await Promise.all(Array.from({ length: 9 }, () => p1.slots.acquire('ws', 'key_many'))))).toBe(7);
  });

  it('take the share of a process that is gone out when the cap is reached, also with several processes asking at once', async () => {
    const dead = await process(3);
    expect(granted(await Promise.all([1, 2, 3].map(() => dead.slots.acquire('ws', 'key_dead'))))).toBe(3);
    await dead.lease.close(); // its session ends: what SIGKILL does to a process's lease
    const [p1, p2] = await Promise.all([process(3), process(3)]);
    const results = await Promise.all([p1, p1, p2, p2, p2].map((p) => p.slots.acquire('ws', 'key_dead')));
    expect(granted(results)).toBe(3);
    const r = await row('key_dead');
    expect(r.n).toBe(3);
    expect(r.holders[String(dead.lease.id)]).toBeUndefined();
  });

  it('never take a share below zero: a give-back after the share was swept changes nothing', async () => {
    const p = await process(5);
    await p.slots.acquire('ws', 'key_swept');
    await shared.db().sql`update limit_slots set n = 0, holders = '{}' where kind = 'ws' and key_id = 'key_swept'`;
    p.slots.release('ws', 'key_swept');
    await p.slots.idle();
    expect(await row('key_swept')).toEqual({ n: 0, holders: {} });
  });
});
