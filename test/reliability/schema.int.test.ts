import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createStore, type SessionStore } from '@agent-sessions/core';
import { Tally } from './backends.js';

const tally = new Tally('schema');
afterAll(() => tally.print());

const INSTANCES = 6;

async function startTogether(url: string, options: Record<string, unknown>): Promise<SessionStore[]> {
  const stores = await Promise.all(Array.from({ length: INSTANCES }, () => createStore(url, options)));
  // Every instance's first call finds an empty database and sets it up, all at the same moment.
  await Promise.all(
    stores.map((s, i) => s.appendRun({ agentId: 'a', sessionId: `s${i}`, format: 'plain', items: [`from instance ${i}`] })),
  );
  tally.operations += INSTANCES;
  return stores;
}

describe('postgres: instances migrating the same empty database at once', () => {
  it(`${INSTANCES} instances end with one correct schema, migrated once`, async () => {
    const schema = `rel_${randomBytes(4).toString('hex')}`;
    const stores = await startTogether(inject('postgresUrl'), { schema });
    // `pg` is a dev dependency of packages/postgres; read what was really stored with it.
    const pg = createRequire(new URL('../../packages/postgres/package.json', import.meta.url))('pg') as {
      Client: new (o: { connectionString: string }) => {
        connect(): Promise<void>;
        query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
        end(): Promise<void>;
      };
    };
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    try {
      const versions = await client.query(`SELECT version FROM "${schema}".agent_sessions_migrations ORDER BY version`);
      const { SCHEMA_VERSION } = await import('@agent-sessions/postgres');
      expect(versions.rows.map((r) => r.version)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      const tables = await client.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'agent_sessions_migrations',
        'agent_sessions_runs',
        'agent_sessions_sessions',
      ]);
      const sessions = await client.query(`SELECT count(*)::int AS n FROM "${schema}".agent_sessions_sessions`);
      expect(sessions.rows[0]?.n).toBe(INSTANCES);
    } finally {
      await client.end();
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 60_000);
});

describe('mongodb: instances creating indexes on the same empty database at once', () => {
  it(`${INSTANCES} instances end with one set of indexes and every write kept`, async () => {
    const database = `rel_${randomBytes(4).toString('hex')}`;
    const stores = await startTogether(inject('mongodbUrl'), { database });
    const { MongoClient } = createRequire(new URL('../package.json', import.meta.url))('mongodb') as typeof import('mongodb');
    const client = new MongoClient(inject('mongodbUrl'));
    try {
      const db = client.db(database);
      const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
      expect(names).toEqual(expect.arrayContaining(['agent_session_runs', 'agent_sessions']));
      for (const name of names) {
        const keys = (await db.collection(name).indexes()).map((i) => JSON.stringify(i.key));
        expect(new Set(keys).size, `duplicate index on ${name}`).toBe(keys.length);
      }
      // The two unique indexes that make appends safe exist exactly once each.
      const unique = (await db.collection('agent_session_runs').indexes()).filter((i) => i.unique).map((i) => i.key);
      expect(unique).toEqual(
        expect.arrayContaining([
          { agentId: 1, sessionId: 1, seq: 1 },
          { agentId: 1, sessionId: 1, runId: 1 },
        ]),
      );
      let total = 0;
      for (let i = 0; i < INSTANCES; i++) {
        total += (await stores[0]!.listRuns({ agentId: 'a', sessionId: `s${i}`, limit: 5 })).length;
      }
      expect(total).toBe(INSTANCES);
    } finally {
      await client.close();
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 60_000);
});
