import type { Duration, Logger, SessionStore, SummaryOptions, TelemetryOption, WindowOptions } from '@agent-sessions/core/adapter';
import type { StoredMessage } from '@langchain/core/messages';

/** The session a run uses, as handed to `onSession`. */
export interface SessionInfo {
  agentId: string;
  sessionId: string;
  /** The user named by `configurable.userId`, if any. */
  userId: string | undefined;
  /** True when the call named no session and a new id was generated for it. */
  generated: boolean;
}

/** Options shared by `withSessionStorage` and `sessionStorageMiddleware`. */
export interface SessionStorageOptions {
  /** Where sessions are kept: any agent-sessions store (`MemoryStore`, Postgres, Redis, ...). Required. */
  store: SessionStore;
  /** Scopes the sessions, so two agents' sessions with one id never meet. Default: `'default'`. */
  agentId?: string | undefined;
  /**
   * Which history the model sees, applied by core's `loadHistory` with the LangChain codec (so a
   * tool call is never split from its result). Default: `{ lastRuns: 10 }`, the last 10 completed runs.
   */
  window?: WindowOptions<StoredMessage> | undefined;
  /** Time to live set on the session by every run (null: never expires). Default: the store's `ttl`. */
  ttl?: Duration | null | undefined;
  /**
   * Called before every run with the session it uses. The way to learn the id of a session the
   * call did not name (`generated: true`). Default: none.
   */
  onSession?: ((session: SessionInfo) => void | Promise<void>) | undefined;
  /**
   * A named session must already exist for the caller: an unknown, deleted or expired session
   * id fails with `not_found` before the model is called instead of starting a new session
   * under that id. Default: false.
   */
  mustExist?: boolean | undefined;
  /**
   * What happens to a turn whose history went stale (another turn of the session was stored
   * after this one read its history): `'interleave'` stores it anyway, after the other;
   * `'reject'` refuses the save with `conflict` (in the same append, no extra round trip), and
   * the TurnNotStoredError carries the answer. Default: `'interleave'`.
   */
  staleHistory?: 'interleave' | 'reject' | undefined;
  /**
   * Keys of `configurable` that look like a misspelling of `sessionId`, `userId` or `thread_id`
   * (`session_id`, `userid`, `sesionId`) are refused with `invalid_input`, because a misspelt
   * session key would silently start a new session. List here a key of your own app that only
   * looks like ours. Default: none.
   */
  allowedConfigurableKeys?: readonly string[] | undefined;
  /**
   * Fold the runs that leave the window into the session's summary, and put the summary before
   * the window (a human message, counted by `window.maxTokens`). `summarizer` is
   * `(previousSummary, runs) => Promise<string>`, e.g. `langchainSummarizer(model)`. Made after
   * the turn is stored, without delaying the result (`await: true` waits for it); a summarizer
   * that fails or times out never fails the turn and is retried on a later turn. Default: none.
   */
  summary?: SummaryOptions | undefined;
  /**
   * Tracing of each turn: one span (`turn langchain`) around the turn, the store's calls
   * (`readHistory`, `appendRun`) as its children. A streamed turn's span ends once the stream is
   * finished and stored; the middleware's runs from `beforeAgent` to `afterAgent` (or the failed
   * model call). Ids and counts only, never content. `false` turns it off; providers given here
   * are used instead of the global ones. A no-op without `@opentelemetry/api`. Default: true.
   */
  telemetry?: TelemetryOption | undefined;
  /**
   * Where the wrapper's warnings go (a summary not made, a window that left items out, a resume
   * that took over an expired claim): any logger with debug/info/warn/error (pino, console),
   * called with ids and counts, never content. Default: none (summary failures go to the
   * store's `logger`).
   */
  logger?: Logger | undefined;
}
