import { AgentSessionsError, assertId, authorizeTurn, generateRunId, generateSessionId, loadHistory, validateWindow, type Duration, type JsonObject, type JsonValue, type Run, type RunStatus, type SessionRef, type SessionStore, type WindowOptions } from '@agent-sessions/core/adapter';
import {
  RunState,
  run as defaultRun,
  type Agent,
  type AgentInputItem,
  type NonStreamRunOptions,
  type RunResult,
  type RunToolApprovalItem,
  type Runner,
  type StreamRunOptions,
  type StreamedRunResult,
} from '@openai/agents';
import { OPENAI_AGENTS_FORMAT, openAIAgentsCodec, toStoredItems } from './codec.js';
import { AgentSessionsSession } from './session.js';
import { TurnSession } from './turn-session.js';

const SOURCE = 'openai-agents';
/** How many recent runs a resume searches for the interrupted run a RunState came from. */
const RESUME_SEARCH_RUNS = 20;

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

/** What the wrapper knows about a RunState it saw interrupted: where its turn is stored. */
interface PendingTurn {
  agentId: string;
  sessionId: string;
  userId: string | undefined;
  runId: string;
  items: JsonValue[];
}

// Keyed by RunState: a state this process saw interrupted (or loaded) resumes into its own turn.
const PENDING = new WeakMap<object, PendingTurn>();

type RunInput<TContext, TAgent extends Agent<any, any>> = string | AgentInputItem[] | RunState<TContext, TAgent>;

/**
 * An OpenAI Agents `Agent` with durable sessions. The agent itself is never changed, so one
 * agent (and one wrapper) serves any number of concurrent sessions.
 */
export class SessionAgent<TAgent extends Agent<any, any> = Agent<any, any>> {
  readonly agent: TAgent;
  readonly agentId: string;
  readonly store: SessionStore;
  private readonly window: WindowOptions<AgentInputItem>;
  private readonly ttl: Duration | null | undefined;
  private readonly sessionMetadata: JsonObject | undefined;
  private readonly runner: Runner | undefined;

  constructor(agent: TAgent, options: WithSessionStorageOptions) {
    if (typeof options !== 'object' || options === null || typeof options.store !== 'object' || options.store === null) {
      throw new AgentSessionsError('invalid_input', 'Missing option "store"', { source: SOURCE });
    }
    this.agent = agent;
    this.agentId = options.agentId ?? agent.name;
    assertId(this.agentId, 'agentId', SOURCE);
    this.store = options.store;
    this.window = options.window ?? {};
    validateWindow(this.window);
    this.ttl = options.ttl;
    this.sessionMetadata = options.sessionMetadata;
    this.runner = options.runner;
  }

  /**
   * Runs the agent in a session: loads the windowed history, runs, and stores the turn as one
   * run (`completed`, `interrupted` with its RunState, or `failed` with its input and error).
   * Pass a RunState (from `result.state` or `getInterruption()`) to resume an interrupted run.
   */
  run<TContext = undefined>(
    input: RunInput<TContext, TAgent>,
    options: SessionRunOptions<TContext, TAgent> & { stream: true },
  ): Promise<SessionStreamedRunResult<TContext, TAgent>>;
  run<TContext = undefined>(
    input: RunInput<TContext, TAgent>,
    options?: SessionRunOptions<TContext, TAgent> & { stream?: false | undefined },
  ): Promise<SessionRunResult<TContext, TAgent>>;
  async run<TContext = undefined>(
    input: RunInput<TContext, TAgent>,
    options: SessionRunOptions<TContext, TAgent> = {},
  ): Promise<SessionRunResult<TContext, TAgent> | SessionStreamedRunResult<TContext, TAgent>> {
    const { sessionId: namedSession, userId, metadata, stream, ...runOptions } = options;
    const resuming = typeof input === 'object' && input !== null && !Array.isArray(input);
    const prior = resuming ? await this.findPendingTurn(input, namedSession, userId) : undefined;
    const sessionId = prior?.sessionId ?? namedSession ?? generateSessionId();
    const ref: SessionRef = { agentId: this.agentId, sessionId, userId: userId ?? prior?.userId };
    const runId = generateRunId();
    let historyRuns = 0;
    const turn = new TurnSession(sessionId, async () => {
      const { items, runs } = await loadHistory(this.store, ref, openAIAgentsCodec, this.window);
      historyRuns = runs.length;
      return items;
    });
    // A new turn reads its history before the model is called; a resumed one already has it.
    if (!resuming) {
      await turn.preload();
      if (historyRuns === 0 && ref.userId !== undefined) await this.assertNotForeign(ref);
    }

    const ctx: TurnContext = { ref, runId, prior, turn, input: resuming ? undefined : input, metadata };
    const sdkOptions = { ...runOptions, session: turn };
    let result: RunResult<TContext, TAgent> | StreamedRunResult<TContext, TAgent>;
    try {
      result = stream
        ? await this.callRunner(input, { ...sdkOptions, stream: true } as StreamRunOptions<TContext, TAgent>)
        : await this.callRunner(input, sdkOptions as NonStreamRunOptions<TContext, TAgent>);
    } catch (err) {
      await this.recordFailure(ctx, err);
      throw err;
    }
    const info = { sessionId, runId };
    if (!stream) {
      await this.persist(ctx, result);
      return Object.assign(result as RunResult<TContext, TAgent>, info);
    }
    const streamed = result as StreamedRunResult<TContext, TAgent>;
    const stored = streamed.completed.then(
      () => this.persist(ctx, streamed),
      async (err: unknown) => {
        await this.recordFailure(ctx, err);
        throw err;
      },
    );
    // The caller sees a failure through `completed`, the stream and `error`; never unhandled.
    stored.catch(() => undefined);
    Object.defineProperty(streamed, 'completed', { configurable: true, enumerable: false, get: () => stored });
    return Object.assign(streamed, info);
  }

  /**
   * The session's newest run if it is waiting for tool approvals (failed attempts to resume it
   * aside), with its RunState restored in any process: approve or reject its interruptions,
   * then pass `state` to `run()`. Null when the session's latest turn waits for nothing.
   */
  async getInterruption<TContext = undefined>(input: {
    sessionId: string;
    userId?: string | undefined;
  }): Promise<PendingInterruption<TContext, TAgent> | null> {
    const ref: SessionRef = { agentId: this.agentId, sessionId: input.sessionId, userId: input.userId };
    const runs = await this.store.listRuns({ ...ref, limit: RESUME_SEARCH_RUNS });
    // A failed attempt to resume does not settle the approval: look past it.
    const newest = [...runs].reverse().find((r) => !(r.status === 'failed' && r.metadata?.resumedFrom !== undefined));
    const serialized = newest?.status === 'interrupted' ? newest.metadata?.runState : undefined;
    if (!newest || typeof serialized !== 'string') return null;
    const state = await RunState.fromString<TContext, TAgent>(this.agent, serialized);
    PENDING.set(state, {
      agentId: this.agentId,
      sessionId: input.sessionId,
      userId: input.userId,
      runId: newest.runId,
      items: newest.items,
    });
    return { sessionId: input.sessionId, runId: newest.runId, state, interruptions: state.getInterruptions() };
  }

  /** The SDK-native `Session` for one of this agent's sessions, over the same store and window. */
  session(input: { sessionId?: string | undefined; userId?: string | undefined } = {}): AgentSessionsSession {
    return new AgentSessionsSession({
      store: this.store,
      agentId: this.agentId,
      sessionId: input.sessionId,
      userId: input.userId,
      window: this.window,
      ttl: this.ttl,
      sessionMetadata: this.sessionMetadata,
    });
  }

  private callRunner<TContext>(
    input: RunInput<TContext, TAgent>,
    options: StreamRunOptions<TContext, TAgent>,
  ): Promise<StreamedRunResult<TContext, TAgent>>;
  private callRunner<TContext>(
    input: RunInput<TContext, TAgent>,
    options: NonStreamRunOptions<TContext, TAgent>,
  ): Promise<RunResult<TContext, TAgent>>;
  private callRunner<TContext>(
    input: RunInput<TContext, TAgent>,
    options: StreamRunOptions<TContext, TAgent> | NonStreamRunOptions<TContext, TAgent>,
  ): Promise<RunResult<TContext, TAgent> | StreamedRunResult<TContext, TAgent>> {
    const runner = this.runner;
    if (options.stream) {
      const o = options as StreamRunOptions<TContext, TAgent>;
      return runner ? runner.run(this.agent, input, o) : defaultRun(this.agent, input, o);
    }
    const o = options as NonStreamRunOptions<TContext, TAgent>;
    return runner ? runner.run(this.agent, input, o) : defaultRun(this.agent, input, o);
  }

  /** Stores a finished run: `completed`, or `interrupted` with what a later process needs to resume it. */
  private async persist(
    ctx: TurnContext,
    result: RunResult<any, any> | StreamedRunResult<any, any>,
  ): Promise<void> {
    const interruptions = result.interruptions ?? [];
    const interrupted = interruptions.length > 0;
    const cancelled = 'cancelled' in result && result.cancelled === true;
    const items = [...(ctx.prior?.items ?? []), ...ctx.turn.collected];
    if (items.length === 0 && !cancelled) return;
    const extra: JsonObject = {};
    if (ctx.prior) extra.resumedFrom = ctx.prior.runId;
    let status: RunStatus = 'completed';
    if (cancelled) {
      status = 'failed';
      extra.error = { name: 'Cancelled', message: 'the streamed run was cancelled' };
    } else if (interrupted) {
      status = 'interrupted';
      extra.runState = result.state.toString();
      extra.pendingCallIds = interruptions.map(approvalKey).filter((k): k is string => k !== undefined);
    }
    const stored = items.length > 0 ? items : toStoredItems(inputItems(ctx.input));
    if (stored.length === 0) return;
    await this.append(ctx, status, stored, extra, usageOf(result));
    if (interrupted) {
      PENDING.set(result.state, {
        agentId: this.agentId,
        sessionId: ctx.ref.sessionId,
        userId: ctx.ref.userId,
        runId: ctx.runId,
        items: stored,
      });
    }
  }

  /** Keeps a failed run with its input (and whatever the runner had persisted) instead of dropping it. */
  private async recordFailure(ctx: TurnContext, err: unknown): Promise<void> {
    const items = [...(ctx.prior?.items ?? []), ...ctx.turn.collected];
    if (!ctx.prior && ctx.turn.collected.length === 0) items.push(...toStoredItems(inputItems(ctx.input)));
    if (items.length === 0) return;
    const extra: JsonObject = { error: describeError(err) };
    if (ctx.prior) extra.resumedFrom = ctx.prior.runId;
    try {
      await this.append(ctx, 'failed', items, extra, null);
    } catch {
      // The run's own error is what the caller needs to see; a store that cannot record it is
      // most likely the same failure.
    }
  }

  private append(ctx: TurnContext, status: RunStatus, items: JsonValue[], extra: JsonObject, usage: JsonObject | null) {
    return this.store.appendRun({
      ...ctx.ref,
      runId: ctx.runId,
      status,
      format: OPENAI_AGENTS_FORMAT,
      items,
      usage,
      metadata: { ...(ctx.metadata ?? {}), ...extra },
      ttl: this.ttl,
      sessionMetadata: this.sessionMetadata,
    });
  }

  /**
   * Fails before the model is called when the named session belongs to another user: the
   * store would refuse the write anyway, after the model had been paid for. Only checked when
   * the window came back empty, so an ongoing session costs no extra read.
   */
  private async assertNotForeign(ref: SessionRef): Promise<void> {
    await authorizeTurn(this.store, ref, await this.store.getSession(ref), { source: SOURCE });
  }

  /** The stored interrupted turn a RunState resumes: known to this process, or found by its pending call ids. */
  private async findPendingTurn(
    state: object,
    sessionId: string | undefined,
    userId: string | undefined,
  ): Promise<PendingTurn> {
    const known = PENDING.get(state);
    if (known && known.agentId === this.agentId) {
      if (sessionId !== undefined && sessionId !== known.sessionId) {
        throw new AgentSessionsError(
          'invalid_input',
          `this RunState was interrupted in session '${known.sessionId}', not '${sessionId}'`,
          { source: SOURCE },
        );
      }
      return known;
    }
    if (sessionId === undefined) {
      throw new AgentSessionsError('invalid_input', 'name the sessionId of the interrupted run this RunState resumes', {
        source: SOURCE,
      });
    }
    const ref: SessionRef = { agentId: this.agentId, sessionId, userId };
    const keys = interruptionKeys(state);
    const runs = await this.store.listRuns({ ...ref, limit: RESUME_SEARCH_RUNS });
    const match = [...runs].reverse().find((r) => r.status === 'interrupted' && samePending(r, keys));
    if (!match) {
      throw new AgentSessionsError(
        'not_found',
        `no interrupted run in session '${sessionId}' matches this RunState's pending approvals`,
        { source: SOURCE },
      );
    }
    const pending: PendingTurn = { agentId: this.agentId, sessionId, userId, runId: match.runId, items: match.items };
    PENDING.set(state, pending);
    return pending;
  }
}

interface TurnContext {
  ref: SessionRef;
  runId: string;
  prior: PendingTurn | undefined;
  turn: TurnSession;
  /** The new input of a fresh turn; undefined when resuming. */
  input: string | AgentInputItem[] | undefined;
  metadata: JsonObject | undefined;
}

/**
 * Wraps an OpenAI Agents `Agent` with durable sessions:
 *
 * ```ts
 * const wrapped = withSessionStorage(agent, { store });
 * const first = await wrapped.run('Hi, I am Ada');                // a new session
 * const next = await wrapped.run('Who am I?', { sessionId: first.sessionId });
 * ```
 */
export function withSessionStorage<TAgent extends Agent<any, any>>(
  agent: TAgent,
  options: WithSessionStorageOptions,
): SessionAgent<TAgent> {
  return new SessionAgent(agent, options);
}

/** The SDK's own reading of a string input: one user message. */
function inputItems(input: string | AgentInputItem[] | undefined): AgentInputItem[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return input;
}

function approvalKey(item: RunToolApprovalItem): string | undefined {
  const raw = item.rawItem as unknown as Record<string, unknown>;
  const provider = raw.providerData as Record<string, unknown> | undefined;
  for (const v of [raw.callId, raw.id, provider?.id]) if (typeof v === 'string' && v.length > 0) return v;
  return undefined;
}

function interruptionKeys(state: object): string[] {
  const get = (state as { getInterruptions?: () => RunToolApprovalItem[] }).getInterruptions;
  if (typeof get !== 'function') {
    throw new AgentSessionsError('invalid_input', 'expected a string, an item list or a RunState as input', {
      source: SOURCE,
    });
  }
  return get
    .call(state)
    .map(approvalKey)
    .filter((k): k is string => k !== undefined)
    .sort();
}

function samePending(run: Run, keys: readonly string[]): boolean {
  const stored = run.metadata?.pendingCallIds;
  if (!Array.isArray(stored) || stored.length !== keys.length) return false;
  const sorted = stored.map(String).sort();
  return sorted.every((k, i) => k === keys[i]);
}

function usageOf(result: RunResult<any, any> | StreamedRunResult<any, any>): JsonObject | null {
  const usage = result.state?.usage;
  if (!usage) return null;
  const out: JsonObject = {};
  for (const k of ['requests', 'inputTokens', 'outputTokens', 'totalTokens'] as const) {
    const v = usage[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

function describeError(err: unknown): JsonObject {
  if (err instanceof Error) {
    return { name: err.name, message: err.message.slice(0, 2000) };
  }
  return { name: 'Error', message: String(err).slice(0, 2000) };
}
