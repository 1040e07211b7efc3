import { afterAll, describe, expect, it } from 'vitest';
import { type JsonValue } from '@agent-sessions/core';
import { encodeCursor } from '@agent-sessions/core/store';
import { PostgresStore } from '@agent-sessions/postgres';
import { dropSchema, randomSchema, testPool } from './helpers.js';

// Values at the edges of what the columns hold: times are whole-millisecond bigints, items JSONB.
const schema = randomSchema('values');
const pool = testPool();
afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

describe('values at the edges', () => {
  it('a clock with fractions of a millisecond is floored', async () => {
    const store = new PostgresStore({ client: pool, schema, clock: () => 1_700_000_000_000.75 });
    const res = await store.appendRun({ agentId: 'a', sessionId: 'frac', format: 'plain', items: ['x'], ttl: 1000 });
    expect(res.session.createdAt).toBe(1_700_000_000_000);
    expect(res.run.createdAt).toBe(1_700_000_000_000);
    expect(res.session.expiresAt).toBe(1_700_000_001_000);
  });

  it('time filters and cursors with fractions or far-off times work like whole ones', async () => {
    let now = 5_000;
    const store = new PostgresStore({ client: pool, schema, clock: () => now });
    const agentId = 'filters';
    for (const sessionId of ['s1', 's2', 's3']) {
      now += 1000;
      await store.appendRun({ agentId, sessionId, format: 'plain', items: ['x'] });
    }
    const ids = async (input: Parameters<PostgresStore['listSessions']>[0]) =>
      (await store.listSessions(input)).sessions.map((s) => s.sessionId);
    expect(await ids({ agentId, updatedAfter: 6_999.5 })).toEqual(['s3', 's2']);
    expect(await ids({ agentId, updatedAfter: 7_000.5 })).toEqual(['s3']);
    expect(await ids({ agentId, updatedBefore: 7_000.5 })).toEqual(['s2', 's1']);
    expect(await ids({ agentId, updatedBefore: 7_000 })).toEqual(['s1']);
    expect(await ids({ agentId, updatedAfter: 1e300 })).toEqual([]);
    expect(await ids({ agentId, updatedBefore: 1e300 })).toEqual(['s3', 's2', 's1']);
    expect(await ids({ agentId, updatedAfter: -1e300 })).toEqual(['s3', 's2', 's1']);
    expect(await ids({ agentId, cursor: encodeCursor({ updatedAt: 7_000.5, sessionId: 'zzz' }) })).toEqual(['s2', 's1']);
    expect(await ids({ agentId, cursor: encodeCursor({ updatedAt: 7_000, sessionId: 's2' }) })).toEqual(['s1']);
    expect(await ids({ agentId, cursor: encodeCursor({ updatedAt: 1e300, sessionId: '' }) })).toEqual(['s3', 's2', 's1']);
  });

  it('JSON numbers at the limits of a double come back as they went in', async () => {
    const store = new PostgresStore({ client: pool, schema });
    const items: JsonValue[] = [
      5e-324,
      1.7976931348623157e308,
      -1e-7,
      0.1 + 0.2,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      { 'ключ 🔑': [1.5e-10, 123456789.123456789] },
    ];
    await store.appendRun({ agentId: 'a', sessionId: 'numbers', format: 'plain', items });
    const [run] = await store.listRuns({ agentId: 'a', sessionId: 'numbers', limit: 1 });
    expect(run?.items).toEqual(items);
  });

  it('metadata, state and summary with quotes, backslashes and SQL survive unchanged', async () => {
    const store = new PostgresStore({ client: pool, schema });
    const ref = { agentId: "a'; DROP TABLE x; --", sessionId: '$1 $$ \\ "' };
    const { session } = await store.appendRun({ ...ref, format: 'plain', items: ["'"], sessionMetadata: { q: "it's \\ $$" } });
    const updated = await store.updateSession({ ...ref, expectedVersion: session.version, summary: "o'clock $$ \\n", state: { "'": '"' } });
    expect(updated.summary).toBe("o'clock $$ \\n");
    expect(await store.getSession(ref)).toMatchObject({ metadata: { q: "it's \\ $$" }, state: { "'": '"' } });
  });
});
