import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { PostgresStore } from '@agent-sessions/postgres';

// PGlite in this process: one embedded database shared by every store the suite makes, as
// several app instances would share one server.
const db = new PGlite();

runConformanceSuite({
  name: 'postgres (PGlite)',
  createStore: () => new PostgresStore({ client: db, schema: 'conformance' }),
  test: { describe, it, beforeAll, afterAll },
});

afterAll(async () => {
  await db.close();
});
