import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PostgresStore, type PgQueryable } from '@agent-sessions/postgres';

// Issue 14, item 9 on PostgreSQL: work proportional to what is touched. popItem reads the newest
// run through the index; deleting a huge session and pruning many runs go in bounded batches, so
// no single statement holds the shared server long. Sizes: POSTGRES_BATCH_RUNS (default 200,000
// runs to prune, 100,000 in the session popped and deleted).

const RUNS = Number(process.env.POSTGRES_BATCH_RUNS ?? 200_000);
const SESSION_RUNS = Math.min(RUNS, 100_000);
// A statement of one batch takes a few ms; this leaves room for a loaded 2-core machine.
const STATEMENT_BOUND_MS = 250;

const pool = new pg.Pool({ connectionString: inject('postgresUrl'), max: 4 });
pool.on('error', () => {});
const schema = `rel_pg_batches_${Math.random().toString(36).slice(2, 8)}`;

/** The pool, timing every statement the store sends. */
const timed: { ms: number; text: string }[] = [];
const client: PgQueryable = {
  async query(text: string, params?: unknown[]) {
    const t0 = performance.now();
    try {
      return await pool.query(text, params);
    } finally {
      timed.push({ ms: performance.now() - t0, text });
    }
  },
};
const store = new PostgresStore({ client, schema });
const t = (n: string) => `"${schema}"."agent_sessions_${n}"`;

/** A session of `n` runs written straight into the tables (as many appends would have). */
async function bigSession(sessionId: string, n: number, createdAt = 1): Promise<void> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO ${t('sessions')} (agent_id, session_id, created_at, updated_at, version, last_seq, metadata, state)
     VALUES ('big', $1, 1, 1, $2, $2, '{}', '{}') RETURNING id`,
    [sessionId, n],
  );
  await pool.query(
    `INSERT INTO ${t('runs')} (session_pk, seq, run_id, created_at, status, format, items)
     SELECT $1, q, 'r' || q, $2, 'completed', 'plain', '["one","two"]' FROM generate_series(1, $3::int) q`,
    [rows[0]?.id, createdAt, n],
  );
  await pool.query(`ANALYZE ${t('runs')}`);
}

/** Runs `fn`, returning how long it took and its slowest statement. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number; statements: number; slowest: number }> {
  const from = timed.length;
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  const mine = timed.slice(from);
  return { result, ms, statements: mine.length, slowest: Math.max(0, ...mine.map((s) => s.ms)) };
}

beforeAll(async () => {
  await store.setup();
}, 60_000);

afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

describe('item 9: work proportional to what is touched', () => {
  it(`popItem on a session of ${SESSION_RUNS} runs reads only the newest run`, async () => {
    await bigSession('pop', SESSION_RUNS);
    const ref = { agentId: 'big', sessionId: 'pop' };
    const samples: number[] = [];
    for (let i = 0; i < 10; i++) {
      const m = await measure(() => store.popItem(ref));
      expect(m.result?.seq).toBe(SESSION_RUNS - Math.floor(i / 2));
      samples.push(m.ms);
    }
    samples.sort((a, b) => a - b);
    const median = samples[5] ?? 0;
    console.log(`[reliability] postgres-batches: popItem at ${SESSION_RUNS} runs, median ${median.toFixed(2)} ms`);
    expect(median).toBeLessThan(20);
    const { rows } = await pool.query<{ 'QUERY PLAN': unknown }>(
      `EXPLAIN (FORMAT JSON) ${timed[timed.length - 1]?.text}`,
      ['big', 'pop', null, Date.now()],
    );
    const plan = JSON.stringify(rows[0]?.['QUERY PLAN']);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).not.toContain('"Sort"');
  }, 120_000);

  it(`deleting a session of ${SESSION_RUNS} runs goes in bounded statements, and leaves no run behind`, async () => {
    await bigSession('delete', SESSION_RUNS);
    const m = await measure(() => store.deleteSession({ agentId: 'big', sessionId: 'delete' }));
    expect(m.result).toBe(true);
    console.log(
      `[reliability] postgres-batches: deleteSession of ${SESSION_RUNS} runs: ${m.statements} statements, slowest ${m.slowest.toFixed(1)} ms, total ${m.ms.toFixed(0)} ms`,
    );
    expect(m.slowest).toBeLessThan(STATEMENT_BOUND_MS);
    expect(m.statements).toBeGreaterThan(1);
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${t('runs')} r WHERE NOT EXISTS (SELECT 1 FROM ${t('sessions')} s WHERE s.id = r.session_pk)`,
    );
    expect(Number(rows[0]?.n)).toBe(0);
    expect(await store.getSession({ agentId: 'big', sessionId: 'delete' })).toBeNull();
  }, 300_000);

  it(`prune of ${RUNS} old runs and an expired session of ${SESSION_RUNS} runs goes in bounded statements`, async () => {
    for (let i = 0; i < RUNS / 50_000; i++) await bigSession(`old-${i}`, 50_000, 1000);
    await bigSession('expired', SESSION_RUNS, Date.now());
    await pool.query(`UPDATE ${t('sessions')} SET expires_at = 5, ttl_ms = 4 WHERE session_id = 'expired'`);
    const keep = await store.appendRun({ agentId: 'big', sessionId: 'live', format: 'plain', items: ['kept'] });
    const before = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t('runs')}`);
    const m = await measure(() => store.prune({ runsOlderThan: 60_000 }));
    console.log(
      `[reliability] postgres-batches: prune of ${RUNS + SESSION_RUNS} runs: ${m.statements} statements, slowest ${m.slowest.toFixed(1)} ms, total ${m.ms.toFixed(0)} ms`,
    );
    // Everything but the live run: the old sessions, the expired one, and what the tests above left.
    expect(m.result).toEqual({ sessions: 1, runs: Number(before.rows[0]?.n) - 1 });
    expect(m.result.runs).toBeGreaterThanOrEqual(RUNS + SESSION_RUNS);
    expect(m.slowest).toBeLessThan(STATEMENT_BOUND_MS);
    expect((await store.listRuns({ agentId: 'big', sessionId: 'live', limit: 5 }))[0]?.runId).toBe(keep.run.runId);
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t('runs')}`);
    expect(Number(rows[0]?.n)).toBe(1);
  }, 600_000);
});
