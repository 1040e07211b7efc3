// The adapter author's entry: item codecs, windowing and repair, ids, and adapter registration.
export { AgentSessionsError, NotImplementedError, isAgentSessionsError, invalidInput, type ErrorCode } from './errors.js';
export type * from './types.js';
export type { SessionStore } from './session-store.js';
export { MAX_PAGE } from './kernel/normalized.js';
export { generateRunId, generateSessionId } from './ids.js';
export { snapshotJson, cloneJson, assertId } from './validate.js';
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
  type LoadedWindow,
} from './window/window.js';
export { iterateRuns, runPages, type RunPagesOptions } from './runs.js';
export {
  registerAdapter,
  registeredAdapters,
  SUPPORTED_FRAMEWORKS,
  type SessionAdapters,
  type FrameworkAdapter,
  type AdapterFor,
  type WrapOptionsFor,
  type WrappedFor,
  type MissingAdapter,
} from './entry.js';
export {
  TURN_STATUS,
  MAX_TURN_ERROR_MESSAGE,
  RESUME_STATE_KEY,
  RESUME_LEASE_MS,
  turnError,
  endError,
  turnMetadata,
  storedInput,
  sessionNotFound,
  authorizeTurn,
  storeTurn,
  claimResume,
  releaseResume,
  misspeltKey,
  refuseMisspeltKeys,
  TurnNotStoredError,
  AlreadyResumedError,
  type TurnEnd,
  type TurnError,
} from './turn.js';
export { turnLabels, contentText, type ItemText } from './labels.js';
export { transcript, type TranscriptTurn } from './transcript.js';
export { withTurnSpan, openTurn, ATTR, type OpenTurn } from './ops/telemetry.js';
export type { TurnSpanAttributes, CallRecorder, TelemetryOption } from './ops/telemetry-types.js';
export { opsLogger, adapterLogger, summaryLogger, warnWindowCut, type Logger, type OpsLogger } from './ops/logger.js';
export * from './summary/index.js';
