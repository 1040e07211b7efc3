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
});
