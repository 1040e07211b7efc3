import { PGlite } from '@electric-sql/pglite';
import { MemoryStore, type SessionStore } from '@agent-sessions/core';
import { PostgresStore } from '@agent-sessions/postgres';
import { afterAll } from 'vitest';

/**
 * The stores every adapter behaviour test runs on: memory, and a real PostgreSQL engine (PGlite
 * in memory, no server needed). One PGlite per test file: tests use their own session ids.
 */
let pglite: { db: PGlite; store: PostgresStore } | undefined;
afterAll(async () => {
  if (!pglite) return;
  await pglite.store.close();
  await pglite.db.close();
});

export const STORES: { name: string; open(): Promise<SessionStore> }[] = [
  { name: 'memory', open: async () => new MemoryStore() },
  {
    name: 'pglite',
    open: async () => {
      if (!pglite) {
        const db = new PGlite();
        pglite = { db, store: new PostgresStore({ client: db }) };
      }
      return pglite.store;
    },
  },
];
