import { afterAll, describe, expect, it } from 'vitest';
import type { JsonValue } from '@agent-sessions/core';
import { PostgresStore, type PgQueryable } from '@agent-sessions/postgres';
import { dropSchema, randomSchema, testPool } from './helpers.js';

// Races on a real server through several pools (separate connections, as separate processes
// would have), checked against what the tables really hold.
const schema = randomSchema('races');
const admin = testPool();
const pools = Array.from({ length: 3 }, () => testPool(undefined, 12));
let sent = 0;
const counted = (p: PgQueryable): PgQueryable => ({
  query: (text, params) => {
    sent += 1;
    return p.query(text, params);
  },
});

afterAll(async () => {
  await dropSchema(admin, schema);
  await Promise.all([admin, ...pools].map((p) => p.end()));
});

async function stored(agentId: string, sessionId: string) {
  const t = (n: string) => `"${schema}"."agent_sessions_${n}"`;
  const { rows: headers } = await admin.query<{ id: string; last_seq: string; version: string }>(
    `SELECT id, last_seq, version FROM ${t('sessions')} WHERE agent_id = $1 AND session_id = $2`,
    [agentId, sessionId],
  );
  const { rows: runs } = await admin.query<{ seq: string; run_id: string; items: JsonValue[]; kind: string }>(
    `SELECT r.seq, r.run_id, r.items, json_typeof(r.items::json) AS kind FROM ${t('runs')} r JOIN ${t('sessions')} s ON s.id = r.session_pk
     WHERE s.agent_id = $1 AND s.session_id = $2 ORDER BY r.seq`,
    [agentId, sessionId],
  );
  return { headers, runs: runs.map((r) => ({ ...r, seq: Number(r.seq) })) };
}

describe('races on a PostgreSQL server', () => {
  it('300 appends of 100 run ids (each sent three times at once) from three pools: 100 runs, seq 1..100', async () => {
    const stores = pools.map((p) => new PostgresStore({ client: counted(p), schema }));
    await stores[0]?.getSession({ agentId: 'warm', sessionId: 'up' });
    const ref = { agentId: 'agent', sessionId: 'hot' };
    sent = 0;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const id = Math.floor(i / 3); // the three sends of one run id leave together, through three pools
        return (stores[i % 3] as PostgresStore).appendRun({ ...ref, runId: `run-${id}`, format: 'plain', items: [{ id }] });
      }),
    );
    // Every retry of a run id got the one stored run back.
    const seqOf = new Map<string, number>();
    for (const r of results) {
      const prior = seqOf.get(r.run.runId);
      if (prior !== undefined) expect(r.run.seq).toBe(prior);
      seqOf.set(r.run.runId, r.run.seq);
      expect(r.run.items).toEqual([{ id: Number(r.run.runId.slice(4)) }]);
    }
    expect(results.filter((r) => r.created)).toHaveLength(100);
    const { headers, runs } = await stored(ref.agentId, ref.sessionId);
    expect(headers).toHaveLength(1);
    expect(Number(headers[0]?.last_seq)).toBe(100);
    expect(Number(headers[0]?.version)).toBe(100);
    expect(runs.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(runs.map((r) => r.run_id)).size).toBe(100);
    expect(runs.every((r) => r.kind === 'array')).toBe(true);
    // Statements beyond one per call are the lost races run again and the refused retries asking
    // why (reported, not asserted).
    process.stdout.write(`[postgres races] 300 appends took ${sent} statements\n`);
  }, 60_000);

  it('two sends of one run id that raced past the snapshot: the unique constraint stops the second, which returns the stored run', async () => {
    const store = new PostgresStore({ client: counted(pools[0] as PgQueryable), schema });
    const ref = { agentId: 'agent', sessionId: 'held' };
    await store.appendRun({ ...ref, runId: 'first', format: 'plain', items: ['first'] });
    // Hold the header's row lock, so both sends take their snapshots and then wait on it.
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${schema}"."agent_sessions_sessions" WHERE agent_id = $1 AND session_id = $2 FOR UPDATE`, [
        ref.agentId,
        ref.sessionId,
      ]);
      sent = 0;
      const sends = [0, 1].map((i) => store.appendRun({ ...ref, runId: 'twice', format: 'plain', items: [`send-${i}`] }));
      for (let waited = 0; ; waited += 20) {
        const { rows } = await admin.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO%agent_sessions_sessions%'",
        );
        if (Number(rows[0]?.n) >= 2) break;
        if (waited > 10_000) throw new Error('the two sends never waited on the lock');
        await new Promise((r) => setTimeout(r, 20));
      }
      await holder.query('COMMIT');
      const [a, b] = await Promise.all(sends);
      expect([a?.created, b?.created].sort()).toEqual([false, true]);
      expect(a?.run.seq).toBe(2);
      expect(b?.run.seq).toBe(2);
      expect(a?.run.items).toEqual(b?.run.items);
      // Two sends; the one the unique violation stopped runs again, is refused, and asks why (the stored run).
      expect(sent).toBe(4);
    } finally {
      holder.release();
    }
    const { headers, runs } = await stored(ref.agentId, ref.sessionId);
    expect(runs.map((r) => [r.seq, r.run_id])).toEqual([
      [1, 'first'],
      [2, 'twice'],
    ]);
    expect(Number(headers[0]?.last_seq)).toBe(2);
    expect(Number(headers[0]?.version)).toBe(2);
  }, 30_000);

  it('concurrent appends to an expired session start one fresh session at seq 1 without the old runs', async () => {
    let now = 10_000_000;
    const stores = pools.map((p) => new PostgresStore({ client: p, schema, clock: () => now }));
    const ref = { agentId: 'agent', sessionId: 'expiring' };
    for (let i = 0; i < 5; i++) await stores[0]?.appendRun({ ...ref, runId: `old-${i}`, format: 'plain', items: ['old'], ttl: 1000 });
    now += 60_000;
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (stores[i % 3] as PostgresStore).appendRun({ ...ref, runId: `new-${i % 12}`, format: 'plain', items: [`new-${i % 12}`] }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(12);
    const { headers, runs } = await stored(ref.agentId, ref.sessionId);
    expect(headers).toHaveLength(1);
    expect(runs.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(runs.every((r) => r.run_id.startsWith('new-'))).toBe(true);
  }, 60_000);

  it('concurrent pops and appends: every item is popped at most once or still stored, seqs stay 1..lastSeq', async () => {
    const stores = pools.map((p) => new PostgresStore({ client: p, schema }));
    const ref = { agentId: 'agent', sessionId: 'popping' };
    await stores[0]?.appendRun({ ...ref, runId: 'seed', format: 'plain', items: ['s0', 's1', 's2', 's3'] });
    const ops = Array.from({ length: 60 }, (_, i) => {
      const s = stores[i % 3] as PostgresStore;
      return i % 3 === 0
        ? s.appendRun({ ...ref, runId: `a${i}`, format: 'plain', items: [`a${i}-0`, `a${i}-1`] }).then(() => null)
        : s.popItem(ref).then((p) => (p ? (p.item as string) : null));
    });
    const popped = (await Promise.all(ops)).filter((x): x is string => x !== null);
    expect(new Set(popped).size).toBe(popped.length);
    const { headers, runs } = await stored(ref.agentId, ref.sessionId);
    const left = runs.flatMap((r) => r.items as string[]);
    expect(popped.filter((x) => left.includes(x))).toEqual([]);
    expect(popped.length + left.length).toBe(4 + 20 * 2);
    expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
    expect(Number(headers[0]?.last_seq)).toBe(runs.length);
    expect(runs.every((r) => (r.items as unknown[]).length > 0)).toBe(true);
  }, 60_000);
});
