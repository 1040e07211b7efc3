import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** A schema name of this test file's own, so files sharing the server never meet. */
export function randomSchema(tag: string): string {
  return `as_${tag}_${randomBytes(5).toString('hex')}`;
}

/** The harness's server (POSTGRES_URL or a throwaway one). */
export function postgresUrl(): string {
  return inject('postgresUrl');
}

/** A pool on the harness's server; idle errors (server restarts) never crash the test process. */
export function testPool(url = postgresUrl(), max = 20): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
