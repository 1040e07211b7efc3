export { MongoStore, MongoSessionStore, createStoreFromUrl, databaseFromUrl, type ContentionStats } from './store.js';
export { CONTENTION_ATTEMPTS, CONTENTION_SHARE, DEFAULT_DATABASE, DEFAULT_LOCKS_COLLECTION, DEFAULT_RUNS_COLLECTION, DEFAULT_SERVER_SELECTION_TIMEOUT_MS, DEFAULT_SESSIONS_COLLECTION, DELETE_BATCH, DELETE_TARGET_MS, INLINE_CLEANUP_MS, type FromConnectionStringOptions, type MongoStoreOptions, type MongoSessionStoreOptions } from './options.js';
export { NEVER, MalformedDocumentError, metadataTags, type HeaderDoc, type PopIntent, type RunDoc, type RunHeaderDelta } from './documents.js';
export { DeletePacer } from './batches.js';
export { SESSION_INDEXES, RUN_INDEXES, type TtlIndexMode } from './indexes.js';
export { MONGO_DRIVER_ERRORS, isDuplicateKey, isWriteConflict, isLostRace } from './errors.js';
