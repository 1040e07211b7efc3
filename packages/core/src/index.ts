export * from './errors.js';
export * from './types.js';
export { parseDuration, ttlToMs } from './ttl.js';
export { generateId, generateRunId, generateSessionId } from './ids.js';
export {
  MAX_ID_LENGTH,
  MAX_JSON_DEPTH,
  assertId,
  assertItems,
  assertJson,
  assertJsonObject,
  cloneJson,
} from './validate.js';
export { encodeCursor, decodeCursor, isAfterCursor, type ListCursor } from './cursor.js';
export {
  SessionStore,
  MAX_PAGE,
  canAccess,
  isExpired,
  expiryFor,
  type StoreCapabilities,
  type StoreOptions,
  type ScopedRef,
  type NormalizedAppend,
  type NormalizedListRuns,
  type NormalizedRead,
  type NormalizedCreate,
  type NormalizedUpdate,
  type NormalizedList,
  type NormalizedPrune,
  type NormalizedWrite,
} from './store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { plainCodec, type ItemCodec, type ItemInfo } from './window/codec.js';
export { repairItems, isWellFormed } from './window/repair.js';
export { estimateTokens, type TokenCounter } from './window/tokens.js';
export {
  applyWindow,
  loadHistory,
  validateWindow,
  DEFAULT_LAST_RUNS,
  MAX_WINDOW_PAGES,
  type WindowOptions,
  type WindowResult,
} from './window/window.js';
export {
  withSessionStorage,
  registerAdapter,
  registeredAdapters,
  SUPPORTED_FRAMEWORKS,
  type SessionAdapters,
  type FrameworkAdapter,
  type AdapterFor,
  type WrapOptionsFor,
  type WrappedFor,
} from './entry.js';
export {
  createStore,
  redactUrl,
  STORE_SCHEMES,
  type CreateStoreOptions,
  type StorePackage,
} from './create-store.js';
