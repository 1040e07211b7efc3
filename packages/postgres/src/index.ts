export { PostgresStore, type PostgresStoreOptions, type PostgresConnectionOptions } from './store.js';
export { createStoreFromUrl } from './url.js';
export {
  migrate,
  migrationSql,
  MIGRATIONS,
  SCHEMA_VERSION,
  type Migration,
  type MigrateOptions,
  type MigrateResult,
} from './migrations.js';
export { DEFAULT_CONNECTION_TIMEOUT_MS, type PgQueryable, type PgPoolOptions } from './client.js';
export { classifyPgError } from './classify.js';
export { DEFAULT_SCHEMA, DEFAULT_TABLE_PREFIX, type NameOptions } from './names.js';
