import { afterAll, beforeAll, describe, it } from 'vitest';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { PostgresStore } from '@agent-sessions/postgres';
import { dropSchema, randomSchema, testPool } from './helpers.js';

// A real PostgreSQL server (the harness's), through an injected pg.Pool. Every store the suite
// makes shares the pool, as app instances would share the database.
const schema = randomSchema('pool');
const pool = testPool();

runConformanceSuite({
  name: 'postgres (pg.Pool)',
  createStore: () => new PostgresStore({ client: pool, schema }),
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});
