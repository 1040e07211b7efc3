import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '@agent-sessions/postgres';
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

  it('the window read at 10,000 runs settles on a generic plan (the limit is in the text): no re-planning per call', async () => {
    const schema = randomSchema('generic');
    const client = new pg.Client({ connectionString: postgresUrl() });
    await client.connect();
    try {
      const store = new PostgresStore({ client, schema });
      const ref = { agentId: 'a', sessionId: 'long' };
      await store.appendRun({ ...ref, format: 'plain', items: ['first'] });
      const t = (n: string) => `"${schema}"."agent_sessions_${n}"`;
      await admin.query(`INSERT INTO ${t('runs')} (session_pk, seq, run_id, created_at, status, format, items)
        SELECT s.id, q, 'r' || q, q, 'completed', 'plain', '["x"]' FROM ${t('sessions')} s, generate_series(2, 10000) q`);
      await admin.query(`UPDATE ${t('sessions')} SET last_seq = 10000, version = 10000; ANALYZE ${t('sessions')}; ANALYZE ${t('runs')}`);
      for (let i = 0; i < 30; i++) {
        const h = await store.readHistory({ ...ref, limit: 10 });
        expect(h.runs.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, k) => 9991 + k));
        const page = await store.listRuns({ ...ref, limit: 10, beforeSeq: 5000 });
        expect(page[9]?.seq).toBe(4999);
      }
      const { rows } = await client.query<{ statement: string; generic_plans: string; custom_plans: string }>(
        'SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE $1',
        ['%LIMIT 10\n%'],
      );
      expect(rows).toHaveLength(2);
      for (const r of rows) {
        expect(Number(r.generic_plans)).toBeGreaterThanOrEqual(25);
        expect(Number(r.custom_plans)).toBeLessThanOrEqual(5);
      }
    } finally {
      await client.end();
      await dropSchema(admin, schema);
    }
  });

  it('generic plans made while the tables are tiny still read the window along the primary key and look the run id up by index', async () => {
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
    await store.readHistory({ ...ref, limit: 10 });
    const read = sent[sent.length - 1] as { text: string; params: unknown[] };
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
      const readPlan = await explain(read.text, read.params);
      expect(readPlan).toMatch(/Index Scan Backward using agent_sessions_runs_pkey/);
      expect(readPlan).not.toMatch(/Bitmap|Seq Scan on agent_sessions_runs/);
      const appendPlan = await explain(append.text, append.params);
      expect(appendPlan).not.toMatch(/hashed SubPlan|Seq Scan on agent_sessions_runs/);
    } finally {
      await client.query('RESET plan_cache_mode');
      client.release();
      await store.close();
      await dropSchema(admin, schema);
    }
  });
});
