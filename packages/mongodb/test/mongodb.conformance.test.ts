import { afterAll, beforeAll, describe, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { MongoSessionStore } from '@agent-sessions/mongodb';
import { mongoServer, randomDatabase } from './helpers.js';

const { url, server } = mongoServer();
const database = randomDatabase('conf');

// Every instance opens its own client, as separate processes would.
runConformanceSuite({
  name: `mongodb on ${server}`,
  createStore: () => MongoSessionStore.fromConnectionString(url, { database }),
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  const client = new MongoClient(url);
  await client.db(database).dropDatabase();
  await client.close();
});
