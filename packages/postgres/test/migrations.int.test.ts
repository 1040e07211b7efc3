import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, PostgresStore, SCHEMA_VERSION, migrate, migrationSql } from '@agent-sessions/postgres';
import { dropSchema, randomSchema, testPool } from './helpers.js';

// Every version this release ships: 1..SCHEMA_VERSION (was the literal [1, 2] at version 2).
const ALL_VERSIONS = MIGRATIONS.map((m) => m.version);
const pool = testPool();
const schemas: string[] = [];
const fresh = (tag: string) => {
  const s = randomSchema(tag);
  schemas.push(s);
  return s;
};

afterAll(async () => {
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

async function versions(schema: string, prefix = 'agent_sessions'): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>(`SELECT version FROM "${schema}"."${prefix}_migrations" ORDER BY version`);
  return rows.map((r) => r.version);
}

async function indexes(schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1', [schema]);
  return rows.map((r) => r.indexname);
}

describe('migrations', () => {
  it('ships at least two versions, numbered 1..n', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('a store migrates an empty schema on first use and records every version', async () => {
    const schema = fresh('auto');
    const store = new PostgresStore({ client: pool, schema });
    await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
    expect(await indexes(schema)).toContain('agent_sessions_runs_created');
    await store.close();
  });

  it('upgrades a database created at version 1 and keeps its data', async () => {
    const schema = fresh('upgrade');
    expect(await migrate(pool, { schema, targetVersion: 1 })).toEqual({ from: 0, to: 1 });
    expect(await versions(schema)).toEqual([1]);
    expect(await indexes(schema)).not.toContain('agent_sessions_runs_created');

    // Data written the version-1 way, straight into the version-1 tables.
    const t = (n: string) => `"${schema}"."agent_sessions_${n}"`;
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO ${t('sessions')} (agent_id, session_id, user_id, created_at, updated_at, expires_at, ttl_ms, metadata, state, summary, version, last_seq)
       VALUES ('agent', 'old', 'alice', 1000, 2000, NULL, NULL, '{"topic":"v1"}', '{"step":3}', 'so far', 4, 2) RETURNING id`,
    );
    const id = rows[0]?.id;
    await pool.query(
      `INSERT INTO ${t('runs')} (session_pk, seq, run_id, created_at, status, format, items, usage, metadata) VALUES
       ($1, 1, 'r1', 1000, 'completed', 'plain', '["hello"]', NULL, NULL),
       ($1, 2, 'r2', 2000, 'failed', 'plain', '[{"role":"user","content":"again"}]', '{"tokens":5}', '{"m":1}')`,
      [id],
    );
    // And through a store that does not migrate, at version 1.
    const v1 = new PostgresStore({ client: pool, schema, migrate: false });
    await v1.appendRun({ agentId: 'agent', sessionId: 'other', runId: 'o1', format: 'plain', items: ['kept'] });
    expect(await versions(schema)).toEqual([1]);

    const store = new PostgresStore({ client: pool, schema });
    const ref = { agentId: 'agent', sessionId: 'old', userId: 'alice' };
    const runs = await store.listRuns({ ...ref, limit: 10 });
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
    expect(await indexes(schema)).toContain('agent_sessions_runs_created');
    expect(runs).toEqual([
      { runId: 'r1', seq: 1, createdAt: 1000, status: 'completed', format: 'plain', items: ['hello'], usage: null, metadata: null },
      {
        runId: 'r2',
        seq: 2,
        createdAt: 2000,
        status: 'failed',
        format: 'plain',
        items: [{ role: 'user', content: 'again' }],
        usage: { tokens: 5 },
        metadata: { m: 1 },
      },
    ]);
    expect(await store.getSession(ref)).toMatchObject({
      userId: 'alice',
      createdAt: 1000,
      updatedAt: 2000,
      metadata: { topic: 'v1' },
      state: { step: 3 },
      summary: 'so far',
      version: 4,
      lastSeq: 2,
    });
    const next = await store.appendRun({ ...ref, runId: 'r3', format: 'plain', items: ['after the upgrade'] });
    expect(next.run.seq).toBe(3);
    expect(next.session.version).toBe(5);
    expect((await store.appendRun({ ...ref, runId: 'r2', format: 'plain', items: ['dup'] })).created).toBe(false);
    expect((await store.listRuns({ agentId: 'agent', sessionId: 'other', limit: 5 }))[0]?.items).toEqual(['kept']);
    expect(await store.getSession({ ...ref, userId: 'mallory' })).toBeNull();
    expect((await store.prune({ runsOlderThan: 1 })).runs).toBeGreaterThanOrEqual(4);
    await store.close();
    await v1.close();
  });

  it('version 5 makes the per-user and metadata indexes partial, adds statistics for the metadata filter, and listings stay exact', async () => {
    const schema = fresh('v5');
    expect(await migrate(pool, { schema, targetVersion: 4 })).toEqual({ from: 0, to: 4 });
    const v4 = new PostgresStore({ client: pool, schema, migrate: false });
    await v4.createSession({ agentId: 'a', sessionId: 'plain' });
    await v4.createSession({ agentId: 'a', sessionId: 'owned', userId: 'u1' });
    await v4.createSession({ agentId: 'a', sessionId: 'tagged', metadata: { project: 'p1' } });
    await v4.createSession({ agentId: 'a', sessionId: 'both', userId: 'u1', metadata: { project: 'p1' } });
    await v4.close();

    const store = new PostgresStore({ client: pool, schema });
    await store.appendRun({ agentId: 'a', sessionId: 'plain', format: 'plain', items: ['after the upgrade'] });
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
    const defs = async () => {
      const { rows } = await pool.query<{ indexname: string; indexdef: string }>('SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1', [schema]);
      return new Map(rows.map((r) => [r.indexname, r.indexdef]));
    };
    const d = await defs();
    expect(d.get('agent_sessions_sessions_agent_user_updated')).toMatch(/WHERE \(user_id IS NOT NULL\)$/);
    expect(d.get('agent_sessions_sessions_metadata')).toMatch(/WHERE \(\(metadata\)::text <> '\{\}'::text\)$/);
    const stats = await pool.query('SELECT 1 FROM pg_statistic_ext e JOIN pg_namespace n ON n.oid = e.stxnamespace WHERE n.nspname = $1 AND e.stxname = $2', [
      schema,
      'agent_sessions_sessions_metadata',
    ]);
    expect(stats.rowCount).toBe(1);

    const ids = async (input: Parameters<PostgresStore['listSessions']>[0]) => (await store.listSessions(input)).sessions.map((x) => x.sessionId).sort();
    expect(await ids({ agentId: 'a', userId: 'u1' })).toEqual(['both', 'owned']);
    expect(await ids({ agentId: 'a', metadata: { project: 'p1' } })).toEqual(['both', 'tagged']);
    // An empty filter is no filter: sessions with empty metadata are listed too.
    expect(await ids({ agentId: 'a', metadata: {} })).toEqual(['both', 'owned', 'plain', 'tagged']);
    // Metadata set later, then emptied again, moves the session in and out of the filter's result.
    const version = async () => (await store.getSession({ agentId: 'a', sessionId: 'plain' }))!.version;
    await store.updateSession({ agentId: 'a', sessionId: 'plain', expectedVersion: await version(), metadata: { project: 'p1' } });
    expect(await ids({ agentId: 'a', metadata: { project: 'p1' } })).toEqual(['both', 'plain', 'tagged']);
    await store.updateSession({ agentId: 'a', sessionId: 'plain', expectedVersion: await version(), metadata: {} });
    expect(await ids({ agentId: 'a', metadata: { project: 'p1' } })).toEqual(['both', 'tagged']);
    expect(await ids({ agentId: 'a', metadata: {} })).toEqual(['both', 'owned', 'plain', 'tagged']);
    await store.close();
  });

  it('instances starting together migrate once, under the advisory lock', async () => {
    const schema = fresh('race');
    // Separate pools: separate connections, as separate processes would have.
    const pools = Array.from({ length: 6 }, () => testPool(undefined, 2));
    const results = await Promise.all(pools.map((p) => migrate(p, { schema })));
    for (const r of results) expect(r.to).toBe(SCHEMA_VERSION);
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
    const stores = pools.map((p) => new PostgresStore({ client: p, schema }));
    await Promise.all(stores.map((s, i) => s.appendRun({ agentId: 'a', sessionId: 's', runId: `r${i}`, format: 'plain', items: [i] })));
    expect((await stores[0]?.getSession({ agentId: 'a', sessionId: 's' }))?.lastSeq).toBe(6);
    await Promise.all(pools.map((p) => p.end()));
  });

  it('stores starting together on an empty schema all work, and the schema is migrated once', async () => {
    const schema = fresh('race2');
    const pools = Array.from({ length: 4 }, () => testPool(undefined, 2));
    const stores = pools.map((p) => new PostgresStore({ client: p, schema }));
    await Promise.all(stores.map((s, i) => s.appendRun({ agentId: 'a', sessionId: `s${i}`, format: 'plain', items: [i] })));
    expect(await versions(schema)).toEqual(ALL_VERSIONS);
    await Promise.all(pools.map((p) => p.end()));
  });

  it('migrate: false never creates anything: calls fail until the schema exists', async () => {
    const schema = fresh('off');
    const store = new PostgresStore({ client: pool, schema, migrate: false });
    await expect(store.getSession({ agentId: 'a', sessionId: 's' })).rejects.toMatchObject({ code: 'internal' });
    const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    expect(rows).toEqual([]);
    await migrate(pool, { schema });
    expect(await store.getSession({ agentId: 'a', sessionId: 's' })).toBeNull();
  });

  it('migrate() is idempotent and reports the versions before and after', async () => {
    const schema = fresh('idem');
    expect(await migrate(pool, { schema })).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(await migrate(pool, { schema })).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(await migrate(pool, { schema, targetVersion: 1 })).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
  });

  it('migrationSql() is a script a deploy pipeline can run as it is', async () => {
    const schema = fresh('script');
    const sql = migrationSql({ schema, tablePrefix: 'chat' });
    expect(sql).toContain('pg_advisory_xact_lock');
    await pool.query(sql);
    await pool.query(sql); // twice: nothing happens the second time
    expect(await versions(schema, 'chat')).toEqual(ALL_VERSIONS);
    const store = new PostgresStore({ client: pool, schema, tablePrefix: 'chat', migrate: false });
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.run.seq).toBe(1);
  });

  it('a failed migration leaves nothing behind (the script is one transaction)', async () => {
    const schema = fresh('atomic');
    // A table in the way makes version 1 fail halfway through its statements.
    await pool.query(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}"."agent_sessions_runs" (x int)`);
    await expect(migrate(pool, { schema })).rejects.toMatchObject({ code: 'internal' });
    const { rows } = await pool.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1', [schema]);
    expect(rows.map((r) => r.tablename)).toEqual(['agent_sessions_runs']);
  });

  it('runs on PGlite too, through exec', async () => {
    const db = new PGlite();
    expect(await migrate(db, { schema: 'x', targetVersion: 1 })).toEqual({ from: 0, to: 1 });
    const store = new PostgresStore({ client: db, schema: 'x' });
    await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    const { rows } = await db.query<{ version: number }>('SELECT version FROM x.agent_sessions_migrations ORDER BY 1');
    expect(rows.map((r) => r.version)).toEqual(ALL_VERSIONS);
    await db.close();
  });
});

describe('schema and table prefix options', () => {
  const bad = ['', 'a"b', 'x; DROP TABLE users', '1abc', 'a-b', 'a b', 'é', 'a'.repeat(64), 'pg_"x'];
  it.each(bad)('schema %j is refused with invalid_input', (schema) => {
    expect(() => new PostgresStore({ client: pool, schema })).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
  it.each([...bad, 'p'.repeat(33)])('tablePrefix %j is refused with invalid_input', (tablePrefix) => {
    expect(() => new PostgresStore({ client: pool, tablePrefix })).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });
  it('migrate() checks them too, and the target version', async () => {
    await expect(migrate(pool, { schema: 'a"; DROP SCHEMA public; --' })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(migrate(pool, { targetVersion: 0 })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(migrate(pool, { targetVersion: SCHEMA_VERSION + 1 })).rejects.toMatchObject({ code: 'invalid_input' });
  });
  it('a store needs a client', () => {
    expect(() => new PostgresStore({} as never)).toThrow(/Missing option "client"/);
  });
  it('two prefixes in one schema keep separate data', async () => {
    const schema = fresh('prefix');
    const a = new PostgresStore({ client: pool, schema, tablePrefix: 'a' });
    const b = new PostgresStore({ client: pool, schema, tablePrefix: 'B_2' });
    const ref = { agentId: 'agent', sessionId: 'same' };
    await a.appendRun({ ...ref, format: 'plain', items: ['in a'] });
    expect(await b.getSession(ref)).toBeNull();
    await b.appendRun({ ...ref, format: 'plain', items: ['in b'] });
    expect((await a.listRuns({ ...ref, limit: 5 })).map((r) => r.items)).toEqual([['in a']]);
    expect((await b.listRuns({ ...ref, limit: 5 })).map((r) => r.items)).toEqual([['in b']]);
  });
});
