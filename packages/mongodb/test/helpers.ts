import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import type { SessionStore } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import {
  DEFAULT_LOCKS_COLLECTION,
  DEFAULT_RUNS_COLLECTION,
  DEFAULT_SESSIONS_COLLECTION,
  MongoStore,
  type HeaderDoc,
  type MongoStoreOptions,
  type RunDoc,
} from '@agent-sessions/mongodb';

/** The server the harness started (or MONGODB_URL), and what it is. */
export function mongoServer(): { url: string; server: string } {
  const url = inject('mongodbUrl');
  const server = inject('mongodbServer');
  if (!url) throw new Error('no MongoDB server was provided: run with the test-services global setup (AGENT_SESSIONS_SERVICES must include mongodb)');
  return { url, server };
}

/** A database name of its own for each test file, so files never see each other's data. */
export function randomDatabase(prefix: string): string {
  return `as_${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * Empties the store's collections (keeping their indexes). The conformance suite destroys a
 * part's stores when the part ends, so each part starts empty: FerretDB scans a whole
 * collection for every query but one by `_id`, and would otherwise slow down with every part.
 */
export async function emptyCollections(db: Db): Promise<void> {
  for (const name of [DEFAULT_SESSIONS_COLLECTION, DEFAULT_RUNS_COLLECTION, DEFAULT_LOCKS_COLLECTION]) {
    await db.collection(name).deleteMany({});
  }
}

/**
 * The conformance suite on MongoDB, in a database of this file's own: `create(database)` makes
 * each part's stores; the collections are emptied when a part ends, and the database is dropped
 * and `admin` (the client that empties it) closed when the file ends.
 */
export function runMongoConformance(name: string, prefix: string, admin: MongoClient, create: (database: string) => MongoStore): void {
  const database = randomDatabase(prefix);
  runConformanceSuite({
    name,
    createStore: () => create(database),
    destroyStore: async (store) => {
      await store.close();
      await emptyCollections(admin.db(database));
    },
    test: { describe, it, beforeAll, afterAll },
  });
  afterAll(async () => {
    await admin.db(database).dropDatabase();
    await admin.close();
  });
}

/**
 * A database of this file's own on the harness's server, read directly through `client`:
 * `store(options)` makes a MongoStore on it (closed when the file ends, when the database is
 * dropped), `ref()` a fresh session reference and `key(ref)` its header's `_id`.
 */
export function mongoFixture(prefix: string, clientOptions?: MongoClientOptions) {
  const { url, server } = mongoServer();
  const database = randomDatabase(prefix);
  const client = new MongoClient(url, clientOptions);
  const db = client.db(database);
  const stores: SessionStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    await db.dropDatabase();
    await client.close();
  });
  let n = 0;
  return {
    url,
    server,
    database,
    client,
    db,
    headers: db.collection<HeaderDoc>(DEFAULT_SESSIONS_COLLECTION),
    runs: db.collection<RunDoc>(DEFAULT_RUNS_COLLECTION),
    stores,
    store(options: Partial<MongoStoreOptions> = {}): MongoStore {
      const s = new MongoStore({ client, database, ...options });
      stores.push(s);
      return s;
    },
    ref: () => ({ agentId: `agent-${Date.now()}-${n++}`, sessionId: 'chat' }),
    key: (r: { agentId: string; sessionId: string }) => JSON.stringify([r.agentId, r.sessionId]),
  };
}
