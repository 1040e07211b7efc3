import type { Duration, JsonObject, SessionStore, WindowOptions } from '@agent-sessions/core/adapter';
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
}

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
