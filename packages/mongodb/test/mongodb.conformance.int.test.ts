import { afterAll, beforeAll, describe, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { MongoStore } from '@agent-sessions/mongodb';
import { emptyCollections, mongoServer, randomDatabase } from './helpers.js';

const { url, server } = mongoServer();
const database = randomDatabase('conf');
const admin = new MongoClient(url);

// Every instance opens its own client, as separate processes would.
runConformanceSuite({
  name: `mongodb on ${server}`,
  createStore: () => MongoStore.fromConnectionString(url, { database }),
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
