import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Db } from 'mongodb';
import { DEFAULT_LOCKS_COLLECTION, DEFAULT_RUNS_COLLECTION, DEFAULT_SESSIONS_COLLECTION } from '@agent-sessions/mongodb';

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
