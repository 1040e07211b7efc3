import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reencryptSession, type EncryptionOption, type SessionStore } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { PostgresStore } from '@agent-sessions/postgres';
import { dropSchema, randomSchema, testPool } from './helpers.js';
import { SECRET, rejectsInternal } from '../../../test/support/encryption.js';

// Encryption at rest on PostgreSQL: the whole conformance suite with encryption on (on the
// server through pg, and on PGlite), then what is really in the tables, read with SQL.

const key = randomBytes(32);
const schema = randomSchema('enc');
const pool = testPool();
const lite = new PGlite();

runConformanceSuite({
  name: 'postgres (pg.Pool, encrypted)',
  createStore: () => new PostgresStore({ client: pool, schema, encryption: key }),
  test: { describe, it, beforeAll, afterAll },
});

runConformanceSuite({
  name: 'postgres (PGlite, encrypted)',
  createStore: () => new PostgresStore({ client: lite, schema: 'conformance_enc', encryption: key }),
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
  await lite.close();
});


/** The envelope with one bit of its ciphertext-and-tag flipped. */
function flipLastByte(sealed: string): string {
  const parts = sealed.split(':');
  const body = Buffer.from(parts[parts.length - 1] as string, 'base64url');
  body[body.length - 1] = (body[body.length - 1] as number) ^ 1;
  parts[parts.length - 1] = body.toString('base64url');
  return parts.join(':');
}


describe('postgres: what encryption leaves in the tables', () => {
  const tamperSchema = randomSchema('tamper');
  let store: SessionStore;
  const runs = `"${tamperSchema}"."agent_sessions_runs"`;
  const sessions = `"${tamperSchema}"."agent_sessions_sessions"`;

  beforeAll(async () => {
    store = new PostgresStore({ client: pool, schema: tamperSchema, encryption: key });
    await store.setup();
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(pool, tamperSchema);
  });

  const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });

  it('stores items, state and summary as envelopes with no plaintext; ids, status and metadata stay clear', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'run-1', format: 'test', items: [{ role: 'user', content: SECRET }, { role: 'assistant', content: 'ok' }], metadata: { channel: 'web' } });
    const h = await store.getSession(r);
    await store.updateSession({ ...r, expectedVersion: h!.version, state: { plan: SECRET }, summary: `summary: ${SECRET}` });
    const row = (await pool.query(`SELECT r.run_id, r.status, r.items, r.metadata, s.state, s.summary FROM ${runs} r JOIN ${sessions} s ON s.id = r.session_pk WHERE s.session_id = $1`, [r.sessionId])).rows[0];
    expect(row.run_id).toBe('run-1');
    expect(row.status).toBe('completed');
    expect(row.metadata).toEqual({ channel: 'web' });
    expect(row.items).toHaveLength(2);
    for (const item of row.items) expect(Object.keys(item)).toEqual(['$as_enc']);
    expect(Object.keys(row.state)).toEqual(['$as_enc']);
    expect(row.summary.startsWith('as_enc:v1:default:')).toBe(true);
    expect(JSON.stringify(row)).not.toContain('launch code');
    // And it all reads back.
    expect((await store.listRuns({ ...r, limit: 10 }))[0]!.items).toEqual([{ role: 'user', content: SECRET }, { role: 'assistant', content: 'ok' }]);
    const back = await store.getSession(r);
    expect(back!.state).toEqual({ plan: SECRET });
    expect(back!.summary).toBe(`summary: ${SECRET}`);
  });

  it("a run's items copied into another session's run fail to decrypt with a typed error", async () => {
    const a = ref();
    const b = ref();
    await store.appendRun({ ...a, runId: 'run-a', format: 'test', items: [{ content: SECRET }] });
    await store.appendRun({ ...b, runId: 'run-b', format: 'test', items: [{ content: 'harmless' }] });
    await pool.query(
      `UPDATE ${runs} SET items = (SELECT r.items FROM ${runs} r JOIN ${sessions} s ON s.id = r.session_pk WHERE s.session_id = $1)
       WHERE session_pk = (SELECT id FROM ${sessions} WHERE session_id = $2)`,
      [a.sessionId, b.sessionId],
    );
    await rejectsInternal(store.listRuns({ ...b, limit: 10 }));
    await rejectsInternal(store.readHistory({ ...b, limit: 10 }));
    await rejectsInternal(store.popItem(b));
    // The source session is untouched and still reads.
    expect((await store.listRuns({ ...a, limit: 10 }))[0]!.items).toEqual([{ content: SECRET }]);
  });

  it('a run copied to another run id of the same session, and reordered items, fail to decrypt', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'one', format: 'test', items: ['a', 'b'] });
    await store.appendRun({ ...r, runId: 'two', format: 'test', items: ['c', 'd'] });
    const pk = `(SELECT id FROM ${sessions} WHERE session_id = $1)`;
    await pool.query(`UPDATE ${runs} SET items = (SELECT items FROM ${runs} WHERE session_pk = ${pk} AND run_id = 'one') WHERE session_pk = ${pk} AND run_id = 'two'`, [r.sessionId]);
    await rejectsInternal(store.listRuns({ ...r, limit: 1 }));
    // Run one still opens; swap its two items and it does not.
    expect((await store.listRuns({ ...r, limit: 1, beforeSeq: 2 }))[0]!.items).toEqual(['a', 'b']);
    await pool.query(`UPDATE ${runs} SET items = jsonb_build_array(items->1, items->0) WHERE session_pk = ${pk} AND run_id = 'one'`, [r.sessionId]);
    await rejectsInternal(store.listRuns({ ...r, limit: 1, beforeSeq: 2 }));
  });

  it("state and summary copied from another session, or altered, fail to decrypt", async () => {
    const a = ref();
    const b = ref();
    for (const r of [a, b]) {
      const { session } = await store.createSession({ ...r, state: { who: r.sessionId } });
      await store.updateSession({ ...r, expectedVersion: session.version, summary: `about ${r.sessionId}` });
    }
    await pool.query(`UPDATE ${sessions} SET state = (SELECT state FROM ${sessions} WHERE session_id = $1) WHERE session_id = $2`, [a.sessionId, b.sessionId]);
    await rejectsInternal(store.getSession(b));
    await rejectsInternal(store.listSessions({ agentId: 'agent' }));
    const c = ref();
    await store.createSession({ ...c, state: { x: 1 } });
    const { rows } = await pool.query(`SELECT summary FROM ${sessions} WHERE session_id = $1`, [a.sessionId]);
    await pool.query(`UPDATE ${sessions} SET summary = $1 WHERE session_id = $2`, [flipLastByte(rows[0].summary as string), a.sessionId]);
    await rejectsInternal(store.getSession(a));
    // A clear value written behind the store's back is refused, not returned.
    await pool.query(`UPDATE ${sessions} SET state = '{"injected": true}' WHERE session_id = $1`, [c.sessionId]);
    await rejectsInternal(store.getSession(c), /unencrypted/);
  });

  it('a store with the wrong key, or without the key id, fails with a typed error; a key ring reads old runs', async () => {
    const r = ref();
    await store.appendRun({ ...r, runId: 'old', format: 'test', items: [{ content: SECRET }] });
    const wrong = new PostgresStore({ client: pool, schema: tamperSchema, encryption: randomBytes(32) });
    const missing = new PostgresStore({ client: pool, schema: tamperSchema, encryption: { keys: { k2: randomBytes(32) }, current: 'k2' } });
    const next = randomBytes(32);
    const ring = new PostgresStore({ client: pool, schema: tamperSchema, encryption: { keys: { default: key, k2: next }, current: 'k2' } });
    try {
      await rejectsInternal(wrong.listRuns({ ...r, limit: 10 }), /does not decrypt/);
      await rejectsInternal(missing.listRuns({ ...r, limit: 10 }), /key 'default', which is not in the key ring/);
      await ring.appendRun({ ...r, runId: 'new', format: 'test', items: [{ content: 'rotated' }] });
      const both = await ring.listRuns({ ...r, limit: 10 });
      expect(both.map((x) => x.items)).toEqual([[{ content: SECRET }], [{ content: 'rotated' }]]);
      const { rows } = await pool.query(`SELECT run_id, items FROM ${runs} WHERE session_pk = (SELECT id FROM ${sessions} WHERE session_id = $1) ORDER BY seq`, [r.sessionId]);
      expect(rows.map((x) => (x.items[0].$as_enc as string).split(':')[1])).toEqual(['default', 'k2']);
      // The old store (old key only) cannot read the new run: typed error, never garbage.
      await rejectsInternal(store.listRuns({ ...r, limit: 1 }), /key 'k2', which is not in the key ring/);
    } finally {
      await wrong.close();
      await missing.close();
      await ring.close();
    }
  });
});

describe('postgres: reencryptSession rewrites runs, title and preview in place', () => {
  const rotSchema = randomSchema('rotate');
  const rotPool = testPool();
  const old = randomBytes(32);
  const next = randomBytes(32);
  const ring = { keys: { default: old, k2: next }, current: 'k2' };
  const open = (encryption: EncryptionOption): PostgresStore => new PostgresStore({ client: rotPool, schema: rotSchema, encryption });
  afterAll(async () => {
    await dropSchema(rotPool, rotSchema);
    await rotPool.end();
  });
  const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });
  const kid = (sealed: string): string => sealed.split(':')[sealed.startsWith('as_enc:') ? 2 : 1] as string;
  const stored = async (r: { agentId: string; sessionId: string }) => {
    const { rows } = await rotPool.query<{ items: string; version: string; updated_at: string; title: string; preview: string }>(
      `SELECT r.items::text AS items, s.version::text AS version, s.updated_at::text AS updated_at, s.title, s.preview
       FROM "${rotSchema}".agent_sessions_sessions s JOIN "${rotSchema}".agent_sessions_runs r ON r.session_pk = s.id
       WHERE s.agent_id = $1 AND s.session_id = $2 ORDER BY r.seq`,
      [r.agentId, r.sessionId],
    );
    return rows;
  };
  const itemKeys = (rows: { items: string }[]): string[] =>
    rows.flatMap((x) => (JSON.parse(x.items) as { $as_enc: string }[]).map((i) => kid(i.$as_enc)));

  it('after rotating keys and reencryptSession, every run, the title and the preview open with only the new key', async () => {
    const before = open(old);
    const r = ref();
    for (let i = 0; i < 5; i++) {
      await before.appendRun({ ...r, format: 't', items: [`m${i}`, { n: i, secret: SECRET }], title: 'the title', preview: `preview ${i}` });
    }
    const after = open(ring);
    const rowsBefore = await stored(r);
    const result = await reencryptSession(after, r, { pageSize: 2 });
    expect(result).toMatchObject({ found: true, headerRewritten: true, runsChecked: 5, runsOnOtherKeys: 5, runsRewritten: 5, runsSkipped: 0 });
    const rows = await stored(r);
    expect(new Set(itemKeys(rows))).toEqual(new Set(['k2']));
    expect(kid(rows[0]!.title)).toBe('k2');
    expect(kid(rows[0]!.preview)).toBe('k2');
    // Runs rewritten in place; the header's own re-seal (state, summary) is a versioned update.
    expect(rows[0]!.updated_at >= rowsBefore[0]!.updated_at).toBe(true);
    const onlyNew = open({ keys: { k2: next }, current: 'k2' });
    expect(await onlyNew.getSession(r)).toMatchObject({ title: 'the title', preview: 'preview 4', lastSeq: 5 });
    const history = await onlyNew.readHistory({ ...r, limit: 10 });
    expect(history.runs.map((x) => x.items)).toEqual([0, 1, 2, 3, 4].map((i) => [`m${i}`, { n: i, secret: SECRET }]));
    expect(await reencryptSession(after, r)).toMatchObject({ runsOnOtherKeys: 0, runsRewritten: 0 });
  });

  it('a pop racing the rewrite of its run is not undone, and a pop after a rewrite keeps the new key', async () => {
    const before = open(old);
    const r = ref();
    await before.appendRun({ ...r, format: 't', items: ['x1', 'x2', 'x3'] });
    let raced = 0;
    class Racing extends PostgresStore {
      protected override async doRewriteRun(input: Parameters<PostgresStore['doRewriteRun']>[0]): Promise<boolean> {
        if (raced++ === 0) expect(await before.popItem(r)).toMatchObject({ item: 'x3' });
        return super.doRewriteRun(input);
      }
    }
    const racing = new Racing({ client: rotPool, schema: rotSchema, encryption: ring });
    expect(await reencryptSession(racing, r)).toMatchObject({ runsOnOtherKeys: 1, runsRewritten: 1, runsSkipped: 0 });
    expect(raced).toBe(2);
    expect((await racing.listRuns({ ...r, limit: 5 }))[0]!.items).toEqual(['x1', 'x2']);
    expect(itemKeys(await stored(r))).toEqual(['k2', 'k2']);
    // A pop rebuilds the run from the row as it is now, so the rewritten items stay rewritten.
    expect(await racing.popItem(r)).toMatchObject({ item: 'x2' });
    expect(itemKeys(await stored(r))).toEqual(['k2']);
  });
});
