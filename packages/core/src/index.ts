// The application's entry: stores, createStore, withSessionStorage, errors and data types.
// Store authors import from '@agent-sessions/core/store', adapter authors from '@agent-sessions/core/adapter'.
export { AgentSessionsError, NotImplementedError, isAgentSessionsError, ERROR_CODES, type ErrorCode } from './errors.js';
export type { AppendRunInput, AppendRunResult, CreateSessionInput, Duration, History, JsonObject, JsonPrimitive, JsonValue, ListRunsInput, ListSessionsInput, PoppedItem, PruneInput, PruneResult, ReadHistoryInput, RenameSessionInput, SessionKey, UsageTotals, UserDataCount, UserDataInput, Run, RunStatus, SessionHeader, SessionPage, SessionRef, UpdateSessionInput } from './types.js';
export { RUN_STATUSES, MAX_TITLE_LENGTH, MAX_PREVIEW_LENGTH } from './types.js';
export type { RestoreSessionInput } from './kernel/restore.js';
export { MAX_TTL_MS } from './ttl.js';
export { generateSessionId } from './ids.js';
export { SessionStore } from './session-store.js';
export { DEFAULT_TIMEOUT_MS, type StoreCapabilities, type StoreOptions } from './kernel/normalized.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { iterateRuns, runPages, type RunPagesOptions } from './runs.js';
export { exportSession, exportSessionText, importSession, forkSession, parseExport, EXPORT_FORMAT, EXPORT_VERSION, type ExportOptions, type ImportTarget, type ForkOptions } from './transfer.js';
export { countUserData, deleteUserData, type EraseOptions } from './erasure.js';
export { DEFAULT_LAST_RUNS, type WindowOptions } from './window/window.js';
export type { TokenCounter } from './window/tokens.js';
export { withSessionStorage, SUPPORTED_FRAMEWORKS, type SessionAdapters, type AdapterFor, type WrapOptionsFor, type WrappedFor, type MissingAdapter } from './entry.js';
export { createStore, STORE_SCHEMES, type CreateStoreOptions } from './create-store.js';
export type { MemoryUrlOptions, MongoUrlOptions, OptionsForUrl, PostgresUrlOptions, RedisUrlOptions, StoreScheme, StoreUrlOptions } from './store-urls.js';
export { TurnNotStoredError, AlreadyResumedError, TURN_STATUS, type TurnEnd, type TurnError } from './turn.js';
export { reencryptSession, type ReencryptResult } from './ops/reencrypt.js';
export { DecryptionError, type EncryptionOption, type EncryptionKey, type EncryptionKeyRing } from './ops/encryption.js';
export type { Logger } from './ops/logger.js';
export type { TelemetryOption } from './ops/telemetry-types.js';
export { foldSummary, DEFAULT_SUMMARY_PROMPT, type Summarizer, type SummarizerContext, type SummaryOptions, type SummaryTrigger, type SummaryFailure, type SummaryOutcome } from './summary/index.js';
