import type { StoreOptions } from '@agent-sessions/core/store';
import type { PgPoolOptions, PgQueryable } from './client.js';
import type { NameOptions } from './names.js';

export interface PostgresStoreOptions extends StoreOptions, NameOptions {
  /**
   * A `pg.Pool` (recommended: it reconnects after an outage), a `pg.Client`, a PGlite database,
   * or anything with the same `query(text, params)` method. The store never closes it.
   */
  client: PgQueryable;
  /**
   * Create or upgrade the tables on first use, under an advisory lock. Default: true. Set false
   * when a deploy pipeline runs `migrate()` (or `migrationSql()` through psql) instead.
   */
  migrate?: boolean | undefined;
  /**
   * Send statements as named prepared statements (pg's Pool and Client only), so the server
   * plans each once per connection. Default: true. Set false behind a pooler that cannot keep
   * prepared statements (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean | undefined;
}

/** Options of `PostgresStore.fromConnectionString`: the store's, plus the pool's. */
export interface PostgresConnectionOptions extends Omit<PostgresStoreOptions, 'client'> {
  /**
   * Passed to `new pg.Pool()`. Defaults here: `connectionTimeoutMillis` 5000 (at most
   * `timeoutMs`), `statement_timeout` and `lock_timeout` `timeoutMs`, `query_timeout`
   * `timeoutMs` + 1000, `keepAlive` true.
   */
  pool?: PgPoolOptions | undefined;
}
