import {
  AgentSessionsError,
  ATTR,
  adapterLogger,
  assertId,
  claimResume,
  authorizeTurn,
  generateRunId,
  generateSessionId,
  refuseMisspeltKeys,
  releaseResume,
  summaryLogger,
  warnWindowCut,
  validateWindow,
  validateSummary,
  foldSummary,
  summaryWindow,
  type AppendRunResult,
  type CallRecorder,
  type OpsLogger,
  type Run,
  type SummaryOptions,
  type SummaryOutcome,
  type Duration,
  type JsonObject,
  type SessionHeader,
  type SessionRef,
  type SessionStore,
  type TelemetryOption,
  type WindowOptions,
  withTurnSpan,
} from '@agent-sessions/core/adapter';
import {
  RunState,
  run as defaultRun,
  type Agent,
  type AgentInputItem,
  type NonStreamRunOptions,
  type RunResult,
  type Runner,
  type StreamRunOptions,
  type StreamedRunResult,
} from '@openai/agents';
import type {
  PendingInterruption,
  SessionRunOptions,
  StaleHistoryPolicy,
  SessionRunResult,
  SessionStreamedRunResult,
  WithSessionStorageOptions,
} from './options.js';
import { loadModelWindow } from './history.js';
import { persistTurn, recordFailure, type TurnContext } from './record.js';
import { RESUME_SEARCH_RUNS, SOURCE, findPendingTurn, newestInterrupted, rememberPending } from './resume.js';
import { AgentSessionsSession } from './session.js';
import { openAIAgentsSummaryItem } from './summary.js';
import { TurnSession } from './turn-session.js';

/** The run options the wrapper reads itself (the rest go to the SDK). */
const SESSION_RUN_KEYS = ['sessionId', 'userId', 'metadata', 'stream', 'mustExist', 'staleHistory'] as const;

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
  /** `window` with the summary before the history (when `summary` is set): what the model is sent. */
  private readonly modelWindow: WindowOptions<AgentInputItem>;
  private readonly summary: SummaryOptions | undefined;
  private readonly ttl: Duration | null | undefined;
  private readonly sessionMetadata: JsonObject | undefined;
  private readonly runner: Runner | undefined;
  private readonly mustExist: boolean;
  private readonly staleHistory: StaleHistoryPolicy;
  private readonly telemetry: TelemetryOption;
  private readonly logger: WithSessionStorageOptions['logger'];
  private readonly log: OpsLogger;

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
    validateSummary(options.summary);
    this.summary = options.summary;
    this.modelWindow = summaryWindow(this.window, this.summary, openAIAgentsSummaryItem);
    this.ttl = options.ttl;
    this.sessionMetadata = options.sessionMetadata;
    this.runner = options.runner;
    this.mustExist = options.mustExist ?? false;
    this.staleHistory = options.staleHistory ?? 'interleave';
    this.telemetry = options.telemetry ?? true;
    this.logger = options.logger;
    this.log = adapterLogger(options.logger, SOURCE);
  }

  /**
   * Runs the agent in a session: loads the windowed history, runs, and stores the turn as one
   * run (see "How a turn is stored" in @agent-sessions/core). Pass a RunState (from
   * `result.state` or `getInterruption()`) to resume an interrupted run: at most once, a second
   * resume of the same interruption fails with AlreadyResumedError (`conflict`) before any tool runs.
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
    // A misspelt `sesionId` is a type error on a literal; anything else (options built at run
    // time, JavaScript callers) is refused here rather than silently starting a new session.
    refuseMisspeltKeys(options as Record<string, unknown>, SESSION_RUN_KEYS, { what: 'options', source: SOURCE });
    // One span per turn, so the store calls it makes (readHistory, appendRun) nest under it. A
    // streamed turn's span stays open until the stream is finished and stored: the result is
    // handed back as soon as the stream starts, through `started`.
    let started!: (result: SessionStreamedRunResult<TContext, TAgent>) => void;
    const streamStarted = new Promise<SessionStreamedRunResult<TContext, TAgent>>((resolve) => (started = resolve));
    const turn = withTurnSpan(
      'turn openai-agents',
      { framework: SOURCE, agentId: this.agentId, 'agent_sessions.turn.stream': options.stream === true },
      (span) => this.runTurn(input, options, span, started),
      { telemetry: this.telemetry },
    );
    if (!options.stream) return turn as Promise<SessionRunResult<TContext, TAgent>>;
    // A failure before the stream starts rejects here.
    const streamed = await Promise.race([streamStarted, turn.then(() => streamStarted)]);
    // `completed` settles once the turn is stored and its span ended, with the turn's outcome.
    const ended = turn.then(() => undefined);
    ended.catch(() => undefined);
    Object.defineProperty(streamed, 'completed', { configurable: true, enumerable: false, get: () => ended });
    return streamed;
  }

  private async runTurn<TContext>(
    input: RunInput<TContext, TAgent>,
    options: SessionRunOptions<TContext, TAgent>,
    span: CallRecorder,
    started: (result: SessionStreamedRunResult<TContext, TAgent>) => void,
  ): Promise<SessionRunResult<TContext, TAgent> | undefined> {
    const { sessionId: namedSession, userId, metadata, stream, mustExist, staleHistory, ...runOptions } = options;
    const resuming = typeof input === 'object' && input !== null && !Array.isArray(input);
    const prior = resuming ? await findPendingTurn(this.store, this.agentId, input, namedSession, userId) : undefined;
    const sessionId = prior?.sessionId ?? namedSession ?? generateSessionId();
    const ref: SessionRef = { agentId: this.agentId, sessionId, userId: userId ?? prior?.userId };
    const runId = generateRunId();
    let header: SessionHeader | null = null;
    let windowRuns: Run[] | undefined;
    const turn = new TurnSession(sessionId, async () => {
      // The native session's history markers apply here too: a session rewritten through it
      // (transactions, mutations, pops) shows the same history through the wrapper.
      const window = await loadModelWindow(this.store, ref, this.modelWindow);
      header = window.session;
      windowRuns = window.runs;
      span.set({ [ATTR.runCount]: window.runs.length, 'agent_sessions.window.items': window.items.length, 'agent_sessions.window.dropped': window.dropped });
      warnWindowCut(this.log, ref, window.dropped, window.items.length);
      return window.items;
    });
    if (prior) {
      // Before anything runs (tools included): a second resume of this interruption stops here.
      await claimResume(this.store, ref, prior.runId, runId, SOURCE, Date.now(), this.log);
    } else {
      // A new turn reads its history with the session's header (one round trip), and is
      // authorised with it, before the model is called.
      await turn.preload();
      const named = namedSession !== undefined;
      await authorizeTurn(this.store, ref, header, { source: SOURCE, mustExist: named && (mustExist ?? this.mustExist) });
    }

    const ctx: TurnContext = {
      store: this.store,
      agentId: this.agentId,
      ref,
      runId,
      prior,
      turn,
      input: resuming ? undefined : (input as string | AgentInputItem[]),
      metadata,
      ttl: this.ttl,
      sessionMetadata: this.sessionMetadata,
      signal: runOptions.signal,
      expectedLastSeq: !prior && (staleHistory ?? this.staleHistory) === 'reject' ? (header as SessionHeader | null)?.lastSeq ?? 0 : undefined,
    };
    const fail = async (err: unknown): Promise<never> => {
      await recordFailure(ctx, err);
      if (prior) await releaseResume(this.store, ref, prior.runId, runId);
      throw err;
    };
    const sdkOptions = { ...runOptions, session: turn };
    let result: RunResult<TContext, TAgent> | StreamedRunResult<TContext, TAgent>;
    try {
      result = stream
        ? await this.callRunner(input, { ...sdkOptions, stream: true } as StreamRunOptions<TContext, TAgent>)
        : await this.callRunner(input, sdkOptions as NonStreamRunOptions<TContext, TAgent>);
    } catch (err) {
      return fail(err);
    }
    const info = { sessionId, runId };
    // After the turn is stored: fold what left the window into the summary (off the hot path unless `summary.await`).
    const summarize = async (appended: AppendRunResult | undefined): Promise<void> => {
      if (!this.summary || !appended || appended.run.status !== 'completed') return;
      const folding = foldSummary({
        store: this.store,
        ref,
        options: this.summary,
        window: this.window,
        session: windowRuns ? appended.session : undefined,
        runs: windowRuns ? [...windowRuns, appended.run] : undefined,
        source: SOURCE,
        logger: summaryLogger(this.log),
      });
      if (this.summary.await) await folding;
    };
    const stored = async (appended: AppendRunResult | undefined): Promise<void> => {
      if (appended) span.set({ [ATTR.itemCount]: appended.run.items.length, 'agent_sessions.run.status': appended.run.status });
      await summarize(appended);
    };
    if (!stream) {
      await stored(await persistTurn(ctx, result));
      return Object.assign(result as RunResult<TContext, TAgent>, info);
    }
    const streamed = result as StreamedRunResult<TContext, TAgent>;
    const done = streamed.completed.then(async () => stored(await persistTurn(ctx, streamed)), fail);
    // The caller sees a failure through `completed`, the stream and `error`; never unhandled.
    done.catch(() => undefined);
    Object.defineProperty(streamed, 'completed', { configurable: true, enumerable: false, get: () => done });
    started(Object.assign(streamed, info));
    // The turn's span ends once the stream is finished and stored (or failed).
    await done;
    return undefined;
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
    const newest = newestInterrupted(await this.store.listRuns({ ...ref, limit: RESUME_SEARCH_RUNS }));
    if (!newest) return null;
    const state = await RunState.fromString<TContext, TAgent>(this.agent, newest.metadata!.runState as string);
    rememberPending(state, {
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
      // The summary is rendered before the window; folding stays with summarize(), as documented
      // (a native Session built with its own `summary` option folds after each addItems).
      window: this.modelWindow,
      logger: this.logger,
      ttl: this.ttl,
      sessionMetadata: this.sessionMetadata,
    });
  }

  /**
   * Folds what left the window of a session into its summary now, as a wrapped run does after
   * each turn (`summary` option required): for turns run through `session()` with the SDK's own
   * `run()`, call it after each run. Never throws; failures go to `summary.onError`.
   */
  async summarize(input: { sessionId: string; userId?: string | undefined }): Promise<SummaryOutcome> {
    if (!this.summary) throw new AgentSessionsError('invalid_input', 'summarize() needs the summary option', { source: SOURCE });
    const ref: SessionRef = { agentId: this.agentId, sessionId: input.sessionId, userId: input.userId };
    return foldSummary({ store: this.store, ref, options: this.summary, window: this.window, source: SOURCE, logger: summaryLogger(this.log) });
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
export function withSessionStorage<TAgent extends Agent<any, any>>(agent: TAgent, options: WithSessionStorageOptions): SessionAgent<TAgent> {
  return new SessionAgent(agent, options);
}
