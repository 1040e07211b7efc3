import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Run } from '@agent-sessions/core';
import { PostgresStore, SCHEMA_VERSION, migrate, type PgQueryable } from '@agent-sessions/postgres';

// Contract v2 on PostgreSQL and PGlite: the schema-4 header fields over older data, stores that
// do not migrate, restores of long sessions in batches, and expiry of sessions without a TTL.

const url = inject('postgresUrl');
const admin = new pg.Pool({ connectionString: url, max: 4 });
admin.on('error', () => {});
const schemas: string[] = [];
const fresh = (tag: string) => {
  const s = `rel_pg2_${tag}_${Math.random().toString(36).slice(2, 8)}`;
  schemas.push(s);
  return s;
};
const lite = new PGlite();

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
  await lite.close();
});

const clients: [string, PgQueryable][] = [
  ['PostgreSQL', admin],
  ['PGlite', lite],
];

describe.each(clients)('on %s', (_name, client) => {
  it('a session without a TTL never gets an expiry from appends, updates, pops, touches or renames', async () => {
    const store = new PostgresStore({ client, schema: fresh('nottl') });
    const r = { agentId: 'a', sessionId: 's', userId: 'u' };
    await store.appendRun({ ...r, format: 'plain', items: ['a', 'b'] });
    const second = await store.appendRun({ ...r, format: 'plain', items: ['c'] });
    expect(second.session.expiresAt).toBeNull();
    const up = await store.updateSession({ ...r, expectedVersion: second.session.version, state: { k: 1 } });
    expect(up.expiresAt).toBeNull();
    await store.popItem(r);
    expect((await store.touchSession(r)).expiresAt).toBeNull();
    expect((await store.renameSession({ ...r, title: 'x' })).expiresAt).toBeNull();
    expect((await store.getSession(r))?.expiresAt).toBeNull();
    // And one with a TTL keeps getting it refreshed.
    const withTtl = await store.appendRun({ ...r, sessionId: 't', format: 'plain', items: ['a'], ttl: 60_000 });
    const touched = await store.touchSession({ ...r, sessionId: 't' });
    expect(touched.expiresAt).toBeGreaterThanOrEqual(withTtl.session.expiresAt as number);
    await store.close();
  });

  it(`version ${SCHEMA_VERSION} reads sessions written at version 3 with the defaults, and keeps counting from there`, async () => {
    const schema = fresh('v3data');
    await migrate(client, { schema, targetVersion: 3 });
    const old = new PostgresStore({ client, schema, migrate: false });
    const r = { agentId: 'a', sessionId: 's', userId: 'u' };
    // A store that does not migrate keeps working on version-3 tables, without the new fields.
    const first = await old.appendRun({ ...r, format: 'plain', items: ['x'], title: 'lost', usage: { totalTokens: 4 }, sessionMetadata: { p: 'q' } });
    expect(first.session.title).toBeNull();
    await expect(old.renameSession({ ...r, title: 'x' })).rejects.toMatchObject({ code: 'not_implemented' });
    await expect(old.restoreSession({ ...r, sessionId: 'copy', runs: [] })).rejects.toMatchObject({ code: 'not_implemented' });
    expect((await old.listSessions({ agentId: 'a', metadata: { p: 'q' } })).sessions).toHaveLength(1);
    expect(await old.listUserSessions({ userId: 'u' })).toHaveLength(1);

    const store = new PostgresStore({ client, schema });
    const h = await store.getSession(r);
    expect(h).toMatchObject({ title: null, preview: null, summarySeq: 0, runCount: 1, usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 } });
    const next = await store.appendRun({ ...r, format: 'plain', items: ['y'], title: 'Now', preview: 'y', usage: { requests: 1, totalTokens: 2.5 } });
    expect(next.session).toMatchObject({ title: 'Now', preview: 'y', runCount: 2, usage: { requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 2.5 } });
    expect(await store.listUserSessions({ userId: 'u', agentId: 'a' })).toHaveLength(1);
    await old.close();
    await store.close();
  });

  it('a restore of 2,500 runs goes in batches, runs first and header last, and a refused one leaves no run behind', async () => {
    const schema = fresh('restore');
    const store = new PostgresStore({ client, schema });
    const runs: Run[] = Array.from({ length: 2500 }, (_, i) => ({
      runId: `r${i + 1}`,
      seq: i + 1,
      createdAt: 1000 + i,
      status: 'completed',
      format: 'plain',
      items: [{ z: i, a: 'first key z' }],
      usage: null,
      metadata: i % 2 ? { m: i } : null,
    }));
    const r = { agentId: 'a', sessionId: 'long', userId: 'u' };
    const header = await store.restoreSession({ ...r, runs, header: { title: 'Imported', usage: { totalTokens: 9 } } });
    expect(header).toMatchObject({ lastSeq: 2500, runCount: 2500, version: 1, title: 'Imported', usage: { totalTokens: 9 } });
    const back = await store.listRuns({ ...r, limit: 1000, beforeSeq: 1002 });
    expect(back[0]?.seq).toBe(2);
    expect(JSON.stringify(back[0]?.items)).toBe('[{"z":1,"a":"first key z"}]');
    const newest = await store.listRuns({ ...r, limit: 1 });
    expect(newest).toEqual([runs[2499]]);
    await expect(store.restoreSession({ ...r, runs })).rejects.toMatchObject({ code: 'conflict' });
    const q = (text: string) => (client as PgQueryable).query(text, []) as Promise<{ rows: { n: number | string }[] }>;
    const t = (n: string) => `"${schema}"."agent_sessions_${n}"`;
    const { rows } = await q(`SELECT count(*) AS n FROM ${t('runs')} r WHERE NOT EXISTS (SELECT 1 FROM ${t('sessions')} s WHERE s.id = r.session_pk)`);
    expect(Number(rows[0]?.n)).toBe(0);
    const all = await q(`SELECT count(*) AS n FROM ${t('runs')}`);
    expect(Number(all.rows[0]?.n)).toBe(2500);
    await store.close();
  });

  it('an expired session is replaced by a restore; a live one is a conflict', async () => {
    let now = 5_000_000;
    const store = new PostgresStore({ client, schema: fresh('replace'), clock: () => now });
    const r = { agentId: 'a', sessionId: 's' };
    await store.appendRun({ ...r, format: 'plain', items: ['old'], ttl: 1000 });
    await expect(store.restoreSession({ ...r, runs: [] })).rejects.toMatchObject({ code: 'conflict' });
    now += 5000;
    const run: Run = { runId: 'n1', seq: 1, createdAt: now, status: 'completed', format: 'plain', items: ['new'], usage: null, metadata: null };
    const h = await store.restoreSession({ ...r, runs: [run] });
    expect(h.lastSeq).toBe(1);
    expect(await store.listRuns({ ...r, limit: 5 })).toEqual([run]);
    await store.close();
  });
});
