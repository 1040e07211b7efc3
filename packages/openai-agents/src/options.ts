import type { Duration, JsonObject, Logger, SessionStore, SummaryOptions, TelemetryOption, WindowOptions } from '@agent-sessions/core/adapter';
import type { Agent, AgentInputItem, NonStreamRunOptions, RunResult, RunState, RunToolApprovalItem, Runner, StreamedRunResult } from '@openai/agents';

export interface WithSessionStorageOptions {
  /** Where sessions live: any agent-sessions store. Required. */
  store: SessionStore;
  /** Scopes the sessions of this agent in the store. Default: `agent.name`. */
  agentId?: string | undefined;
  /** Which history the model sees before each run. Default: the last 10 completed runs, pairs repaired. */
  window?: WindowOptions<AgentInputItem> | undefined;
  /** The sessions' time to live, refreshed by every run. Default: the store's. */
  ttl?: Duration | null | undefined;
  /** Metadata for each session a run creates. Default: none. */
  sessionMetadata?: JsonObject | undefined;
  /** The SDK `Runner` to run with (its model provider, tracing, guardrails). Default: the SDK's `run()`. */
  runner?: Runner | undefined;
  /**
   * A named session must already exist for the caller: an unknown, deleted or expired
   * `sessionId` fails with `not_found` before the model is called instead of starting a new
   * session under that id. Default: false.
   */
  mustExist?: boolean | undefined;
  /**
   * What happens to a turn whose history went stale (another turn of the session was stored
   * after this one read its history): `'interleave'` stores it anyway, after the other;
   * `'reject'` refuses the save with `conflict` (in the same append, no extra round trip), and
   * the TurnNotStoredError carries the answer. Default: `'interleave'`.
   */
  staleHistory?: StaleHistoryPolicy | undefined;
  /**
   * Fold the runs that leave the window into the session's summary, and put the summary before
   * the window (a user message, counted by `window.maxTokens`). `summarizer` is
   * `(previousSummary, runs) => Promise<string>`, e.g. `openAIAgentsSummarizer('gpt-4.1-mini')`.
   * Made after the turn is stored, without delaying the result (`await: true` waits for it); a
   * summarizer that fails or times out never fails the turn and is retried on a later turn.
   * Default: none.
   */
  summary?: SummaryOptions | undefined;
  /**
   * Tracing of each turn: one span (`turn openai-agents`) around the turn, the store's calls
   * (`readHistory`, `appendRun`) as its children; a streamed turn's span ends once the stream is
   * finished and stored. Ids and counts only, never content. `false` turns it off; providers
   * given here are used instead of the global ones. A no-op without `@opentelemetry/api`.
   * Default: true.
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

/** See `staleHistory`. */
export type StaleHistoryPolicy = 'interleave' | 'reject';

/** What a wrapped run takes: the SDK's run options without `session`, plus where to keep the run. */
export type SessionRunOptions<TContext = undefined, TAgent extends Agent<any, any> = Agent<any, any>> = Omit<
  NonStreamRunOptions<TContext, TAgent>,
  'session' | 'stream'
> & {
  /** The session to continue. Default: a new session with an unguessable id, returned as `result.sessionId`. */
  sessionId?: string | undefined;
  /** The session's owner; another user's session behaves as absent. Default: none. */
  userId?: string | undefined;
  /** Stored with the run (`run.metadata`). Default: none. */
  metadata?: JsonObject | undefined;
  /** Stream the run, as the SDK's `stream: true`. Default: false. */
  stream?: boolean | undefined;
  /** Overrides the wrapper's `mustExist` for this run. */
  mustExist?: boolean | undefined;
  /** Overrides the wrapper's `staleHistory` for this run. */
  staleHistory?: StaleHistoryPolicy | undefined;
};

/** Where a wrapped run was stored. */
export interface SessionRunInfo {
  /** The session the run belongs to: the one named, or the new one started for this call. */
  readonly sessionId: string;
  /** The stored run's id (its idempotency key in the session). */
  readonly runId: string;
}

export type SessionRunResult<TContext, TAgent extends Agent<any, any>> = RunResult<TContext, TAgent> & SessionRunInfo;
/** A streamed run; its `completed` settles once the run is stored. */
export type SessionStreamedRunResult<TContext, TAgent extends Agent<any, any>> = StreamedRunResult<TContext, TAgent> &
  SessionRunInfo;

/** A run waiting for tool approvals, as stored: approve or reject, then pass `state` to `run()`. */
export interface PendingInterruption<TContext, TAgent extends Agent<any, any>> {
  readonly sessionId: string;
  /** The stored interrupted run. */
  readonly runId: string;
  readonly state: RunState<TContext, TAgent>;
  readonly interruptions: RunToolApprovalItem[];
}
