import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHistory, plainCodec } from '@agent-sessions/core/adapter';
import { PostgresStore, type PgQueryable } from '@agent-sessions/postgres';
import { dropSchema, randomSchema, testPool } from './helpers.js';

/** A client that records every statement the store sends through the query interface. */
class Recording implements PgQueryable {
  readonly sent: { text: string; params: unknown[] | undefined }[] = [];
  constructor(private readonly inner: PgQueryable) {
    if (!inner.exec) this.exec = undefined as never;
  }
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> {
    this.sent.push({ text, params });
    return this.inner.query(text, params);
  }
  // PGlite runs the migration script through exec; a wrapper passes it on.
  exec = (script: string): Promise<unknown> => {
    this.sent.push({ text: script, params: undefined });
    return (this.inner.exec as (s: string) => Promise<unknown>)(script);
  };
  /** How many statements `fn` sends. */
  async count(fn: () => Promise<unknown>): Promise<number> {
    const before = this.sent.length;
    await fn();
    return this.sent.length - before;
  }
  last(): { text: string; params: unknown[] | undefined } {
    return this.sent[this.sent.length - 1] as { text: string; params: unknown[] | undefined };
  }
}

const pool = testPool();
const schema = randomSchema('stmts');
let pglite: PGlite;

beforeAll(async () => {
  pglite = new PGlite();
  await pglite.waitReady;
}, 60_000);

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
  await pglite.close();
});

describe.each([
  ['a PostgreSQL server', () => pool as PgQueryable],
  ['PGlite', () => pglite as PgQueryable],
])('statements per call on %s', (_name, client) => {
  let rec: Recording;
  let store: PostgresStore;
  const ref = { agentId: 'agent', sessionId: `s-${Math.random()}`, userId: 'u' };

  beforeAll(async () => {
    rec = new Recording(client());
    store = new PostgresStore({ client: rec, schema });
    await store.getSession({ agentId: 'warm', sessionId: 'up' }); // the migration check
  });

  it('appendRun is one statement, for a new session and for an existing one', async () => {
    expect(await rec.count(() => store.appendRun({ ...ref, runId: 'r1', format: 'plain', items: ['a'] }))).toBe(1);
    for (let i = 2; i <= 12; i++) {
      expect(await rec.count(() => store.appendRun({ ...ref, runId: `r${i}`, format: 'plain', items: [`m${i}`] }))).toBe(1);
    }
  });

  it('an idempotent retry is two statements: the append, refused, then why (the stored run)', async () => {
    let res: Awaited<ReturnType<PostgresStore['appendRun']>> | undefined;
    expect(await rec.count(async () => (res = await store.appendRun({ ...ref, runId: 'r3', format: 'plain', items: ['x'] })))).toBe(2);
    expect(res?.created).toBe(false);
    expect(res?.run.items).toEqual(['m3']);
  });

  it('loading the window (listRuns limit 10, and loadHistory) is one statement', async () => {
    let runs: unknown[] = [];
    expect(await rec.count(async () => (runs = await store.listRuns({ ...ref, limit: 10 })))).toBe(1);
    expect(runs).toHaveLength(10);
    expect(await rec.count(() => loadHistory(store, ref, plainCodec))).toBe(1);
    // A caller who is not the owner gets nothing, from the same one statement.
    expect(await rec.count(async () => (runs = await store.listRuns({ ...ref, userId: 'other', limit: 10 })))).toBe(1);
    expect(runs).toEqual([]);
  });

  it('getSession, updateSession, listSessions, deleteSession and popItem are one statement each', async () => {
    const r = { ...ref, sessionId: `${ref.sessionId}-b` };
    await store.appendRun({ ...r, format: 'plain', items: ['a', 'b'] });
    expect(await rec.count(() => store.getSession(r))).toBe(1);
    expect(await rec.count(() => store.updateSession({ ...r, expectedVersion: 1, state: { x: 1 } }))).toBe(1);
    expect(await rec.count(() => store.listSessions({ agentId: r.agentId, userId: 'u', limit: 5 }))).toBe(1);
    expect(await rec.count(() => store.popItem(r))).toBe(1);
    expect(await rec.count(() => store.createSession({ ...r, sessionId: `${r.sessionId}-c` }))).toBe(1);
    expect(await rec.count(() => store.prune({ agentId: 'nobody' }))).toBe(1);
    expect(await rec.count(() => store.deleteSession(r))).toBe(1);
  });

  it('renameSession, touchSession, listUserSessions and a restore of up to 1,000 runs are one statement each', async () => {
    const r = { ...ref, sessionId: `${ref.sessionId}-v2` };
    await store.appendRun({ ...r, format: 'plain', items: ['a'], title: 't', usage: { totalTokens: 3 } });
    expect(await rec.count(() => store.renameSession({ ...r, title: 'T' }))).toBe(1);
    expect(await rec.count(() => store.touchSession(r))).toBe(1);
    expect(await rec.count(() => store.listUserSessions({ userId: 'u', limit: 5 }))).toBe(1);
    expect(await rec.count(() => store.listSessions({ agentId: r.agentId, metadata: { k: 'v' } }))).toBe(1);
    const runs = await store.listRuns({ ...r, limit: 10 });
    expect(await rec.count(() => store.restoreSession({ ...r, sessionId: `${r.sessionId}-copy`, runs }))).toBe(1);
  });

  it('appending to an expired session takes the extra round trips: append, why (expired), purge, append', async () => {
    let now = 1_000_000;
    const clocked = new PostgresStore({ client: rec, schema, clock: () => now });
    const r = { ...ref, sessionId: `${ref.sessionId}-ttl` };
    await clocked.appendRun({ ...r, runId: 'old', format: 'plain', items: ['old'], ttl: 1000 });
    now += 5000;
    let res: Awaited<ReturnType<PostgresStore['appendRun']>> | undefined;
    expect(await rec.count(async () => (res = await clocked.appendRun({ ...r, runId: 'old', format: 'plain', items: ['new'] })))).toBe(4);
    expect(res?.created).toBe(true);
    expect(res?.run.seq).toBe(1);
    expect((await clocked.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['new']]);
  });
});

describe('query plans on a PostgreSQL server with data in it', () => {
  let rec: Recording;
  let store: PostgresStore;
  const planSchema = randomSchema('plans');

  beforeAll(async () => {
    rec = new Recording(pool);
    store = new PostgresStore({ client: rec, schema: planSchema });
    await store.getSession({ agentId: 'warm', sessionId: 'up' });
    const t = (n: string) => `"${planSchema}"."agent_sessions_${n}"`;
    // 5,000 sessions of 20 runs, and one of 20,000 runs: the window must not depend on its length.
    await pool.query(`
      INSERT INTO ${t('sessions')} (agent_id, session_id, user_id, created_at, updated_at, version, last_seq)
      SELECT 'agent-' || (g % 50), 's' || g, 'user-' || (g % 500), g, g, 20, 20 FROM generate_series(1, 5000) g`);
    await pool.query(`
      INSERT INTO ${t('runs')} (session_pk, seq, run_id, created_at, status, format, items)
      SELECT s.id, q, 'r' || q, q, 'completed', 'plain', '["x"]' FROM ${t('sessions')} s, generate_series(1, 20) q`);
    await pool.query(`
      WITH s AS (
        INSERT INTO ${t('sessions')} (agent_id, session_id, user_id, created_at, updated_at, version, last_seq)
        VALUES ('agent-long', 'long', 'user-long', 1, 1, 20000, 20000) RETURNING id
      )
      INSERT INTO ${t('runs')} (session_pk, seq, run_id, created_at, status, format, items)
      SELECT s.id, q, 'r' || q, q, 'completed', 'plain', '["x"]' FROM s, generate_series(1, 20000) q`);
    // 20,000 sessions of one agent, ten per project: a metadata filter the agent's index would scan far for.
    await pool.query(`
      INSERT INTO ${t('sessions')} (agent_id, session_id, user_id, created_at, updated_at, version, last_seq, metadata)
      SELECT 'agent-meta', 'm' || g, 'user-' || (g % 500), g, g, 1, 0, json_build_object('project', 'p' || (g % 2000), 'n', g)
      FROM generate_series(1, 20000) g`);
    await pool.query(`ANALYZE ${t('sessions')}; ANALYZE ${t('runs')}`);
  }, 120_000);

  afterAll(async () => {
    await dropSchema(pool, planSchema);
  });

  async function plan(fn: () => Promise<unknown>): Promise<string> {
    await fn();
    const { text, params } = rec.last();
    const { rows } = await pool.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params);
    return JSON.stringify(rows[0]?.['QUERY PLAN']);
  }

  it('listRuns reads the runs backwards along the primary key, after an index lookup of the header', async () => {
    for (const ref of [
      { agentId: 'agent-7', sessionId: 's7', userId: 'user-7' },
      { agentId: 'agent-long', sessionId: 'long', userId: 'user-long' },
      { agentId: 'agent-long', sessionId: 'long' },
    ]) {
      const p = await plan(() => store.listRuns({ ...ref, limit: 10 }));
      expect(p).not.toContain('Seq Scan');
      expect(p).not.toContain('Bitmap');
      expect(p).toContain('"Index Name":"agent_sessions_runs_pkey"');
      expect(p).toContain('"Scan Direction":"Backward"');
    }
    const paged = await plan(() => store.listRuns({ agentId: 'agent-long', sessionId: 'long', limit: 10, beforeSeq: 500 }));
    expect(paged).toContain('"Index Name":"agent_sessions_runs_pkey"');
    expect(paged).not.toContain('Seq Scan');
  });

  it('appendRun finds the header and the run id by index', async () => {
    const p = await plan(() => store.appendRun({ agentId: 'agent-7', sessionId: 's7', runId: 'new', format: 'plain', items: ['y'] }));
    expect(p).not.toContain('Seq Scan');
  });

  it('listSessions walks the (agent, updatedAt) and (agent, user, updatedAt) indexes', async () => {
    expect(await plan(() => store.listSessions({ agentId: 'agent-3', limit: 20 }))).toContain('agent_sessions_sessions_agent_updated');
    expect(await plan(() => store.listSessions({ agentId: 'agent-3', userId: 'user-3', limit: 20 }))).toContain(
      'agent_sessions_sessions_agent_user_updated',
    );
  });

  it('listUserSessions walks the (user, agent, session) index, across agents and within one', async () => {
    expect(await plan(() => store.listUserSessions({ userId: 'user-3', limit: 20 }))).toContain('agent_sessions_sessions_user_agent_session');
    expect(await plan(() => store.listUserSessions({ userId: 'user-3', agentId: 'agent-3', limit: 20 }))).toContain(
      'agent_sessions_sessions_user_agent_session',
    );
    const next = await plan(() =>
      store.listUserSessions({ userId: 'user-3', limit: 20, after: { agentId: 'agent-3', sessionId: 's503' } }),
    );
    expect(next).toContain('agent_sessions_sessions_user_agent_session');
    expect(next).not.toContain('Seq Scan');
  });

  it('a selective metadata filter is served by the metadata index, and pages stay exact', async () => {
    const p = await plan(() => store.listSessions({ agentId: 'agent-meta', metadata: { project: 'p7' }, limit: 5 }));
    expect(p).toContain('agent_sessions_sessions_metadata');
    expect(p).not.toContain('Seq Scan');
    const first = await store.listSessions({ agentId: 'agent-meta', metadata: { project: 'p7' }, limit: 6 });
    const second = await store.listSessions({ agentId: 'agent-meta', metadata: { project: 'p7' }, limit: 6, cursor: first.nextCursor });
    expect([...first.sessions, ...second.sessions].map((s) => s.metadata.n)).toEqual([18007, 16007, 14007, 12007, 10007, 8007, 6007, 4007, 2007, 7]);
    expect(second.nextCursor).toBeNull();
    expect((await store.listSessions({ agentId: 'agent-meta', metadata: { project: 'p7', n: 4007 } })).sessions).toHaveLength(1);
  });

  it('prune finds expired sessions by the expiry index', async () => {
    const p = await plan(() => store.prune({}));
    expect(p).toContain('agent_sessions_sessions_expires');
  });
});
