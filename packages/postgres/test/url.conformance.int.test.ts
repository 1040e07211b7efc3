import { afterAll, beforeAll, describe, it } from 'vitest';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { PostgresStore } from '@agent-sessions/postgres';
import { dropSchema, postgresUrl, randomSchema, testPool } from './helpers.js';

// Through fromConnectionString: every store opens (and closes) its own pool, as separate
// processes would.
const schema = randomSchema('url');

runConformanceSuite({
  name: 'postgres (fromConnectionString)',
  createStore: () => PostgresStore.fromConnectionString(postgresUrl(), { schema, pool: { max: 20 } }),
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  const pool = testPool();
  await dropSchema(pool, schema);
  await pool.end();
});
