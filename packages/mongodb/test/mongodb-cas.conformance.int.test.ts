import { afterAll, beforeAll, describe, it } from 'vitest';
import { MongoClient as MongoClientV6 } from 'mongodb-v6';
import type { MongoClient } from 'mongodb';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { MongoStore } from '@agent-sessions/mongodb';
import { emptyCollections, mongoServer, randomDatabase } from './helpers.js';

// The lock-free path (compare-and-set commits with helping) that real MongoDB takes, through an
// injected client of the driver's previous major (6.x). FerretDB 1.x rewrites documents in
// separate steps, so a conditional update is atomic there only when nothing else runs at the
// same time: one connection (maxPoolSize 1) gives exactly that, one command at a time, while
// the store's multi-step appends, pops and commits still interleave freely between commands.
const { url, server } = mongoServer();
const database = randomDatabase('cas');
const client = new MongoClientV6(url, { maxPoolSize: 1, serverSelectionTimeoutMS: 5000 }) as unknown as MongoClient;

runConformanceSuite({
  name: `mongodb (driver 6, injected client, compare-and-set path) on ${server}`,
  createStore: () => new MongoStore({ client, database, atomicUpdates: true }),
  destroyStore: async (store) => {
    await store.close();
    await emptyCollections(client.db(database));
  },
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  await client.db(database).dropDatabase();
  await client.close();
});
