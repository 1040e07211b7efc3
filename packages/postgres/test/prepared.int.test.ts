import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '@agent-sessions/postgres';
import { LITERAL_LIMITS } from '../src/params.js';
import { dropSchema, postgresUrl, randomSchema, testPool } from './helpers.js';

const admin = testPool();
afterAll(async () => {
  await admin.end();
});

/** The statements prepared on this connection, as the server lists them. */
async function prepared(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
  return rows.map((r) => r.name);
}

describe('prepared statements', () => {
  it.each([
    [true, 'are named and planned once per connection'],
    [false, 'are not used when preparedStatements is false'],
  ])('with preparedStatements %s, the store\'s statements %s', async (on, _what) => {
    const schema = randomSchema('prep');
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    try {
      const store = new PostgresStore({ client, schema, preparedStatements: on });
      const ref = { agentId: 'a', sessionId: 's' };
      for (let i = 0; i < 3; i++) {
        await store.appendRun({ ...ref, format: 'plain', items: [`turn ${i}`] });
        await store.listRuns({ ...ref, limit: 10 });
      }
      const names = await prepared(client);
      if (on) {
        // One statement each for append and the window, however many calls were made.
        expect(names.filter((n) => n.startsWith('agent_sessions_')).length).toBeGreaterThanOrEqual(2);
        expect(new Set(names).size).toBe(names.length);
      } else {
        expect(names).toEqual([]);
      }
      expect((await store.listRuns({ ...ref, limit: 10 })).map((r) => r.items)).toEqual([['turn 0'], ['turn 1'], ['turn 2']]);
    } finally {
      await client.end();
      await dropSchema(admin, schema);
    }
  });

  it('a generic plan of the append made while the tables are tiny still looks the run id up by index', async () => {
    const schema = randomSchema('tiny');
    const sent: { text: string; params: unknown[] }[] = [];
    const recording = {
      query: (text: string, params?: unknown[]) => {
        sent.push({ text, params: params ?? [] });
        return admin.query(text, params);
      },
    };
    const store = new PostgresStore({ client: recording, schema });
    const ref = { agentId: 'a', sessionId: 's' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    const append = sent[sent.length - 1] as { text: string; params: unknown[] };
    const client = await admin.connect();
    try {
      await client.query('SET plan_cache_mode = force_generic_plan');
      const explain = async (text: string, params: unknown[]) => {
        // Every parameter of the store's statements carries a cast: PREPARE infers the types.
        await client.query(`PREPARE zz_plan AS ${text}`);
        const values = params.map((p) => (p === null ? 'NULL' : typeof p === 'number' || typeof p === 'boolean' ? String(p) : `'${String(p).replace(/'/g, "''")}'`));
        const plan = (await client.query(`EXPLAIN EXECUTE zz_plan(${values.join(', ')})`)).rows.map((r) => r['QUERY PLAN']).join('\n');
        await client.query('DEALLOCATE zz_plan');
        return plan;
      };
      const appendPlan = await explain(append.text, append.params);
      expect(appendPlan).not.toMatch(/hashed SubPlan|Seq Scan on agent_sessions_runs/);
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
      await store.close();
      await dropSchema(admin, schema);
    }
  });
  it('the window read keeps a generic plan made before the tables had statistics, and it reads few pages of a 5,000-run session', async () => {
    const schema = randomSchema('win');
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    try {
      const store = new PostgresStore({ client, schema });
      const short = { agentId: 'a', sessionId: 'short' };
      for (let i = 0; i < 3; i++) await store.appendRun({ ...short, format: 'plain', items: [`turn ${i}`] });
      // No ANALYZE: the plan the server keeps is made while it knows nothing of the tables.
      for (let i = 0; i < 8; i++) await store.readHistory({ ...short, limit: 10 });
      const long = { agentId: 'a', sessionId: 'long' };
      await store.appendRun({ ...long, format: 'plain', items: ['turn 1'] });
      await client.query(`
        WITH h AS (UPDATE "${schema}".agent_sessions_sessions SET last_seq = 5000, version = 5000 WHERE session_id = 'long' RETURNING id)
        INSERT INTO "${schema}".agent_sessions_runs (session_pk, seq, run_id, created_at, status, format, items)
        SELECT h.id, q, 'r' || q, q, 'completed', 'plain', json_build_array('turn ' || q, repeat('x', 1000)) FROM h, generate_series(2, 5000) q`);
      const history = await store.readHistory({ ...long, limit: 10 });
      expect(history.runs.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 4991 + i));
      const { rows } = await client.query<{ statement: string; generic_plans: string; custom_plans: string }>(
        `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%LIMIT 10\n)%'`,
      );
      expect(rows.length).toBe(1);
      expect(Number(rows[0]?.generic_plans)).toBeGreaterThanOrEqual(4);
      // The same generic plan, run on the long session: it reads a few pages, not the session's ~700.
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE zz_window AS ${rows[0]?.statement ?? ''}`);
      const plan = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE zz_window('a', 'long', NULL, ${Date.now()})`)).rows[0]['QUERY PLAN'][0];
      expect(plan.Plan['Shared Hit Blocks'] + (plan.Plan['Shared Read Blocks'] ?? 0)).toBeLessThan(50);
    } finally {
      await client.end();
      await dropSchema(admin, schema);
    }
  });
  it('window reads skip gaps near the top (popped, pruned or restored runs), with and without beforeSeq, for many limits', async () => {
    const schema = randomSchema('gaps');
    const store = new PostgresStore({ client: admin, schema });
    try {
      const ref = { agentId: 'a', sessionId: 'g' };
      for (let i = 1; i <= 40; i++) await store.appendRun({ ...ref, format: 'plain', items: [`turn ${i}`] });
      const gone = [40, 37, 33, 32, 31, 12, 1];
      await admin.query(
        `DELETE FROM "${schema}".agent_sessions_runs r USING "${schema}".agent_sessions_sessions s WHERE r.session_pk = s.id AND s.session_id = 'g' AND r.seq = ANY($1::bigint[])`,
        [gone],
      );
      const kept = Array.from({ length: 40 }, (_, i) => i + 1).filter((q) => !gone.includes(q));
      // More distinct limits than are written into texts: the rest go as a parameter.
      for (const limit of [...Array.from({ length: LITERAL_LIMITS + 4 }, (_, i) => i + 1), 33, 1000]) {
        for (const beforeSeq of [undefined, 41, 38, 34, 13, 2, 1]) {
          const want = kept.filter((q) => beforeSeq === undefined || q < beforeSeq).slice(-limit);
          const runs = await store.listRuns({ ...ref, limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
          expect(runs.map((r) => r.seq)).toEqual(want);
          expect(runs.map((r) => r.items[0])).toEqual(want.map((q) => `turn ${q}`));
          if (beforeSeq === undefined) expect((await store.readHistory({ ...ref, limit })).runs.map((r) => r.seq)).toEqual(want);
        }
      }
    } finally {
      await store.close();
      await dropSchema(admin, schema);
    }
  });
});
