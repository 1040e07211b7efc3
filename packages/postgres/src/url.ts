import { AgentSessionsError, assertUrlOptions, urlScheme, type PostgresUrlOptions } from '@agent-sessions/core/store';
import { lazyRunner, openPglite, type PgPoolOptions } from './client.js';
import { PostgresStore, storeOverRunner, type PostgresConnectionOptions } from './store.js';

/**
 * What `createStore(url)` in core calls: `postgres://` and `postgresql://` URLs open a pg.Pool
 * (`fromConnectionString`); `pglite://<dir>` opens an embedded PGlite database in that directory
 * (`pglite://` alone: in memory). The store owns what it opens and `close()` ends it.
 */
export function createStoreFromUrl(url: string, options: PostgresUrlOptions = {}): PostgresStore {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/is.exec(url);
  const scheme = urlScheme(url);
  if (scheme === 'pglite' || scheme === 'postgres' || scheme === 'postgresql') assertUrlOptions(scheme, options, 'postgres');
  const opts = storeOptions(options);
  if (scheme === 'pglite') {
    const dir = m?.[2] ?? '';
    return storeOverRunner(
      lazyRunner(() => openPglite(dir)),
      opts,
    );
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return PostgresStore.fromConnectionString(url, opts);
  throw new AgentSessionsError('invalid_input', 'expected a postgres://, postgresql:// or pglite:// URL', {
    source: 'postgres',
  });
}

function storeOptions(options: PostgresUrlOptions): PostgresConnectionOptions {
  const { pool, migrate, schema, tablePrefix, preparedStatements, ...common } = options;
  const out: PostgresConnectionOptions = { ...common };
  if (pool !== undefined) out.pool = pool as PgPoolOptions;
  if (migrate !== undefined) out.migrate = migrate !== false;
  if (schema !== undefined) out.schema = schema as string;
  if (tablePrefix !== undefined) out.tablePrefix = tablePrefix as string;
  if (preparedStatements !== undefined) out.preparedStatements = preparedStatements !== false;
  return out;
}
