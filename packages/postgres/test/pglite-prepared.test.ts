import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore, migrate } from '@agent-sessions/postgres';
import { REPREPARE_EVERY } from '../src/pglite.js';

// PGlite's query() parses and plans every statement; the store prepares its own named
// statements through execProtocol instead (issue 20).
const db = new PGlite();
afterAll(async () => {
  await db.close();
});

const prepared = async () =>
  (await db.query<{ name: string; generic_plans: number; custom_plans: number }>(
    `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements WHERE name LIKE 'agent_sessions_%'`,
  )).rows;

describe('named prepared statements on PGlite', () => {
  it('each statement is parsed once and then only bound and executed', async () => {
    const store = new PostgresStore({ client: db, schema: 'prep' });
    const ref = { agentId: 'a', sessionId: 's' };
    for (let i = 0; i < 12; i++) {
      await store.appendRun({ ...ref, format: 'plain', items: [`turn ${i}`] });
      await store.readHistory({ ...ref, limit: 10 });
    }
    const names = await prepared();
    // The append and the window read, each prepared once, however many calls.
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
    const used = names.filter((n) => Number(n.generic_plans) + Number(n.custom_plans) >= 12);
    expect(used.length).toBeGreaterThanOrEqual(2);
    expect((await store.readHistory({ ...ref, limit: 3 })).runs.map((r) => r.items[0])).toEqual(['turn 9', 'turn 10', 'turn 11']);
  });

  it('the window read (its limit in the text) gets a generic plan that walks the primary key backwards, even on tiny tables', async () => {
    const store = new PostgresStore({ client: db, schema: 'tiny' });
    const ref = { agentId: 'a', sessionId: 's' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    for (let i = 0; i < 8; i++) await store.readHistory({ ...ref, limit: 10 });
    const { rows } = await db.query<{ statement: string; generic_plans: number }>(
      `SELECT statement, generic_plans FROM pg_prepared_statements WHERE statement LIKE '%LIMIT 10\n%' AND statement LIKE '%"tiny"%'`,
    );
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]?.generic_plans)).toBeGreaterThanOrEqual(3);
    await db.exec('SET plan_cache_mode = force_generic_plan');
    try {
      await db.exec(`PREPARE zz_plan AS ${rows[0]?.statement}`);
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE zz_plan('a', 's', NULL, 1)`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan Backward using agent_sessions_runs_pkey/);
      expect(plan).not.toMatch(/Bitmap|Seq Scan on agent_sessions_runs/);
    } finally {
      await db.exec('DEALLOCATE zz_plan; RESET plan_cache_mode');
    }
  });

  it('each statement is parsed again after REPREPARE_EVERY calls (fresh plans as the tables grow) and keeps working', async () => {
    const store = new PostgresStore({ client: db, schema: 'prep' });
    const ref = { agentId: 'a', sessionId: 'again' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    for (let i = 0; i < REPREPARE_EVERY + 5; i++) expect((await store.getSession(ref))?.lastSeq).toBe(1);
    const names = await prepared();
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
    // Deallocated behind the store's back: the next call parses again instead of failing.
    await db.exec('DEALLOCATE ALL');
    expect((await store.appendRun({ ...ref, format: 'plain', items: ['y'] })).run.seq).toBe(2);
  }, 120_000);

  it('a statement whose Parse fails (tables missing) is not taken as prepared, and the connection stays in sync', async () => {
    const store = new PostgresStore({ client: db, schema: 'later', migrate: false });
    await expect(store.getSession({ agentId: 'a', sessionId: 's' })).rejects.toMatchObject({ code: 'internal' });
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await migrate(db, { schema: 'later' });
    expect(await store.getSession({ agentId: 'a', sessionId: 's' })).toBeNull();
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.run.seq).toBe(1);
  });

  it('an error while executing (a refused append) leaves the statement prepared and the next call working', async () => {
    const store = new PostgresStore({ client: db, schema: 'prep' });
    const ref = { agentId: 'a', sessionId: 'owned', userId: 'alice' };
    await store.appendRun({ ...ref, format: 'plain', items: ['a'] });
    await expect(store.appendRun({ ...ref, format: 'plain', items: ['b'], expectedLastSeq: 7 })).rejects.toMatchObject({ code: 'conflict' });
    await expect(store.appendRun({ ...ref, userId: 'mallory', format: 'plain', items: ['b'] })).rejects.toMatchObject({ code: 'not_found' });
    expect((await store.appendRun({ ...ref, format: 'plain', items: ['c'], expectedLastSeq: 1 })).run.seq).toBe(2);
    // Values of every kind the store sends: text with a BOM, numbers, booleans, NULLs.
    const u = await store.updateSession({ ...ref, expectedVersion: 2, summary: '\ufeffsum', summarySeq: 2, state: { f: 1.5 } });
    expect(u).toMatchObject({ summary: '\ufeffsum', summarySeq: 2, state: { f: 1.5 } });
  });
});
