import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '@agent-sessions/core';
import { PostgresStore, createStoreFromUrl } from '@agent-sessions/postgres';
import { dropSchema, postgresUrl, randomSchema, testPool } from './helpers.js';

const schemas: string[] = [];
afterAll(async () => {
  const pool = testPool();
  for (const s of schemas) await dropSchema(pool, s);
  await pool.end();
});

describe('createStore(url) from core', () => {
  it('postgres:// gives a PostgresStore over its own pool, with the options passed', async () => {
    const schema = randomSchema('curl');
    schemas.push(schema);
    const store = await createStore(postgresUrl(), { schema, ttl: '1h', pool: { max: 2 } });
    expect(store).toBeInstanceOf(PostgresStore);
    expect((store as PostgresStore).schema).toBe(schema);
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.session.ttlMs).toBe(3_600_000);
    await store.close();
    // close() ended the pool it opened: the store cannot be used any more.
    await expect(store.getSession({ agentId: 'a', sessionId: 's' })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('postgresql:// works the same', async () => {
    const schema = randomSchema('curl');
    schemas.push(schema);
    const store = await createStore(postgresUrl().replace(/^postgres:/, 'postgresql:'), { schema });
    expect((await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] })).run.seq).toBe(1);
    await store.close();
  });

  it('pglite:// is an in-memory PGlite database the store owns', async () => {
    const store = await createStore('pglite://');
    expect(store).toBeInstanceOf(PostgresStore);
    await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(await store.listRuns({ agentId: 'a', sessionId: 's', limit: 5 })).toHaveLength(1);
    await store.close();
  }, 60_000);

  it('pglite://<dir> keeps the data in that directory across stores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-sessions-pglite-'));
    try {
      const first = await createStore(`pglite://${dir}`, { tablePrefix: 'chat' });
      await first.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['remembered'] });
      await first.close();
      const second = await createStore(`pglite://${dir}`, { tablePrefix: 'chat' });
      expect((await second.listRuns({ agentId: 'a', sessionId: 's', limit: 5 }))[0]?.items).toEqual(['remembered']);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('bad options fail with invalid_input before connecting', async () => {
    await expect(createStore(postgresUrl(), { schema: 'x"y' })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(() => createStoreFromUrl('mysql://h/db')).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() => PostgresStore.fromConnectionString('')).toThrow(expect.objectContaining({ code: 'invalid_input' }));
  });

  it('toJSON never shows the pool or the URL', async () => {
    const store = PostgresStore.fromConnectionString('postgres://user:s3cret@127.0.0.1:1/db');
    expect(JSON.stringify(store)).toBe('{"store":"postgres"}');
    await store.close();
  });
});
