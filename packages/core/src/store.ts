// The store author's entry: the base class, normalized inputs, and the kernel every store shares
// (error classification, contention retry, TTL bounds, cursors, URL options).
export { AgentSessionsError, NotImplementedError, isAgentSessionsError, invalidInput, ERROR_CODES, type ErrorCode } from './errors.js';
export type * from './types.js';
export { SessionStore } from './session-store.js';
export { StorePrimitives } from './kernel/primitives.js';
export {
  MAX_PAGE,
  DEFAULT_TIMEOUT_MS,
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
  type NormalizedPatch,
  type NormalizedImport,
  type NormalizedUserList,
  type NormalizedRewriteRun,
  type NormalizedRewriteText,
  type StoredHeader,
  type StoredAppendResult,
  type StoredHistory,
  completeHeader,
} from './kernel/normalized.js';
export { matchesMetadata } from './memory-store.js';
export { usageTotals, boundedText } from './kernel/inputs.js';
export type { RestoreSessionInput } from './kernel/restore.js';
export { MAX_TTL_MS, parseDuration, ttlToMs } from './ttl.js';
export { generateRunId } from './ids.js';
export { encodeCursor, decodeCursor, isAfterCursor, type ListCursor } from './cursor.js';
export {
  classifyError,
  NETWORK_ERROR_CODES,
  type DriverErrorTable,
  type ErrorPatterns,
} from './kernel/classify.js';
export {
  retryContention,
  LOST_RACE,
  DEFAULT_CONTENTION,
  type ContentionOptions,
  type LostRace,
  type RetryContext,
} from './kernel/retry.js';
export { iterateRuns, runPages, type RunPagesOptions } from './runs.js';
export { redactUrl, type StorePackage } from './create-store.js';
export {
  assertUrlOptions,
  urlScheme,
  STORE_URL_OPTION_NAMES,
  type MemoryUrlOptions,
  type MongoUrlOptions,
  type PostgresUrlOptions,
  type RedisUrlOptions,
  type StoreScheme,
} from './store-urls.js';
export type { ServerInfo } from './ops/telemetry-types.js';
export type { OpsLogger, Logger } from './ops/logger.js';
export { DecryptionError } from './ops/encryption.js';
