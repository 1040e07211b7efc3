import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

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
