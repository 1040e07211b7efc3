import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '@agent-sessions/postgres';
import { dropSchema, postgresUrl, randomSchema } from './helpers.js';

describe('an injected pg.Client (one connection)', () => {
  const schema = randomSchema('client');
  const client = new pg.Client({ connectionString: postgresUrl() });

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    await dropSchema(client as unknown as pg.Pool, schema);
    await client.end();
  });

  it('serves every operation, concurrent appends included, and close() leaves the client open', async () => {
    // pg deprecates overlapping queries on one client: the store must send them one at a time.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const store = new PostgresStore({ client, schema });
    const ref = { agentId: 'a', sessionId: 's', userId: 'u' };
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.appendRun({ ...ref, runId: `r${i % 10}`, format: 'plain', items: [i % 10] })));
    const runs = await store.listRuns({ ...ref, limit: 100 });
    expect(runs.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await store.popItem(ref)).toMatchObject({ seq: 10 });
    const h = await store.getSession(ref);
    expect(h).toMatchObject({ lastSeq: 9, version: 11, userId: 'u' });
    await store.updateSession({ ...ref, expectedVersion: 11, summary: 'ten turns' });
    expect((await store.listSessions({ agentId: 'a', userId: 'u' })).sessions.map((s) => s.summary)).toEqual(['ten turns']);
    await store.close();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(warnings.filter((m) => /already executing a query/.test(m))).toEqual([]);
  });
});
