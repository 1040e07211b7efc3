export { PostgresStore } from './store.js';
export type { PostgresStoreOptions, PostgresConnectionOptions } from './options.js';
export { createStoreFromUrl, URL_QUERY_OPTIONS, PG_QUERY_PARAMETERS } from './url.js';
export {
  migrate,
  migrationSql,
  MIGRATIONS,
  SCHEMA_VERSION,
  SchemaVersionError,
  type Migration,
  type MigrateOptions,
  type MigrateResult,
} from './migrations.js';
export { type PgQueryable, type PgPoolOptions } from './client.js';
export { DEFAULT_CONNECTION_TIMEOUT_MS } from './open.js';
export { PG_ERRORS, classifyPgError } from './errors.js';
export { DEFAULT_SCHEMA, DEFAULT_TABLE_PREFIX, type NameOptions } from './names.js';
