export { MongoSessionStore, createStoreFromUrl, databaseFromUrl } from './store.js';
export {
  DEFAULT_DATABASE,
  DEFAULT_LOCKS_COLLECTION,
  DEFAULT_RUNS_COLLECTION,
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
  DEFAULT_SESSIONS_COLLECTION,
  type FromConnectionStringOptions,
  type MongoSessionStoreOptions,
} from './options.js';
export { NEVER, type HeaderDoc, type PopIntent, type RunDoc } from './documents.js';
export { SESSION_INDEXES, RUN_INDEXES, type TtlIndexMode } from './indexes.js';
export { classifyMongoError } from './errors.js';
