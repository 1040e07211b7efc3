import {
  AgentSessionsError,
  AlreadyResumedError,
  claimResume,
  generateRunId,
  releaseResume,
  sessionNotFound,
} from '@agent-sessions/core/adapter';
import { AIMessage, BaseMessage, RemoveMessage, isBaseMessage } from '@langchain/core/messages';
import { Runnable, mergeConfigs, type RunnableConfig } from '@langchain/core/runnables';
import { AsyncGeneratorWithSetup, IterableReadableStream } from '@langchain/core/utils/stream';
import { ensureId } from './codec.js';
import { hasCheckpointer, isCommand, isGraph, isLangChainAgent, isLangChainRunnable, type AgentLike } from './detect.js';
import { Accumulator, FinalOutput, inputMessagesOf, invalid, isRecord, threadReader, type Target } from './input.js';
import type { SessionStorageOptions } from './options.js';
import {
  SOURCE,
  announce,
  checkOptions,
  expectedLastSeq,
  historyOf,
  itemIds,
  latestRun,
  loadTurnHistory,
  newMessages,
  ref,
  resolveSession,
  saveFailure,
  saveRun,
  type LoadedHistory,
  type ResolvedSession,
} from './session.js';

/** LangGraph's marker that clears the messages channel (`REMOVE_ALL_MESSAGES` in `@langchain/langgraph`). */
const REMOVE_ALL_MESSAGES = '__remove_all__';
/** LangGraph's key for the interrupts of a run that paused (`INTERRUPT`). */
const INTERRUPT = '__interrupt__';

/** Options of `withSessionStorage`. */
export type WithSessionStorageOptions = SessionStorageOptions;

/** The field a wrapped agent (or graph) adds to the state it returns. */
export interface SessionResult {
  /** The session the run used: the one the call named, or the one generated for it. */
  sessionId: string;
}

/** One run in progress. */
interface Run {
  session: ResolvedSession;
  runId: string;
  history: LoadedHistory;
  inputMessages: BaseMessage[];
  callInput: unknown;
  config: RunnableConfig | undefined;
  /** The input was a state object (`{ messages }`): the output is one too, or a message. */
  stateInput: boolean;
  /** The interrupted run this one resumes (claimed: nobody else resumes it). */
  resumes?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * A LangChain runnable (chat model, LCEL chain, LangGraph graph) or a `createAgent` agent with
 * durable sessions. It is itself a Runnable: `invoke`, `stream` and `batch` work as on the
 * original, plus `pipe`, `withConfig` and the rest.
 *
 * Per run: the session comes from `configurable.sessionId` (or `configurable.thread_id`), the user
 * from `configurable.userId`; the window is loaded and placed before the input; the messages the
 * run added (picked by id) are saved as one run. A run that throws is saved as `failed` with its input.
 */
export class SessionRunnable<
  RunInput = unknown,
  RunOutput = unknown,
  CallOptions extends RunnableConfig = RunnableConfig,
> extends Runnable<RunInput, RunOutput, CallOptions> {
  lc_namespace = ['agent_sessions', 'langchain'];

  static override lc_name(): string {
    return 'SessionRunnable';
  }

  /** The wrapped runnable or agent. */
  readonly target: Target;
  readonly sessionOptions: SessionStorageOptions;

  constructor(target: Target, options: SessionStorageOptions) {
    super();
    checkOptions(options, 'withSessionStorage');
    this.target = target;
    this.sessionOptions = options;
    this.name = `${(target as { name?: unknown }).name ?? target.constructor.name}WithSessionStorage`;
  }

  override async invoke(input: RunInput, options?: Partial<CallOptions>): Promise<RunOutput> {
    const run = await this.start(input, options);
    if (!run) return this.callInvoke(input, options) as Promise<RunOutput>;
    let output: unknown;
    try {
      output = await this.callInvoke(run.callInput, run.config);
    } catch (err) {
      await this.fail(run, err);
      throw err;
    }
    await this.finish(run, output);
    return this.tag(output, run.session) as RunOutput;
  }

  override async stream(input: RunInput, options?: Partial<CallOptions>): Promise<IterableReadableStream<RunOutput>> {
    // As Runnable.stream does: start the run now, so `await stream()` fails if the start fails.
    const generator = new AsyncGeneratorWithSetup({
      generator: this.streamRun(input, options),
      config: options as RunnableConfig | undefined,
    });
    await generator.setup;
    return IterableReadableStream.fromAsyncGenerator(generator) as IterableReadableStream<RunOutput>;
  }

  override async *_streamIterator(input: RunInput, options?: Partial<CallOptions>): AsyncGenerator<RunOutput> {
    yield* this.streamRun(input, options);
  }

  private async *streamRun(input: RunInput, options?: Partial<CallOptions>): AsyncGenerator<RunOutput> {
    const run = await this.start(input, options);
    if (!run) {
      yield* (await this.callStream(input, options)) as AsyncIterable<RunOutput>;
      return;
    }
    const capture = isGraph(this.target) ? new FinalOutput() : undefined;
    const config = capture ? mergeConfigs(run.config, { callbacks: [capture] }) : run.config;
    let stream: AsyncIterable<unknown>;
    try {
      stream = await this.callStream(run.callInput, config);
    } catch (err) {
      await this.fail(run, err);
      throw err;
    }
    const acc = new Accumulator();
    let state: 'streaming' | 'done' | 'failed' = 'streaming';
    try {
      for await (const chunk of stream) {
        acc.add(chunk);
        yield chunk as RunOutput;
      }
      state = 'done';
    } catch (err) {
      state = 'failed';
      await this.fail(run, err);
      throw err;
    } finally {
      if (state === 'streaming') {
        // The caller stopped reading: keep the input, out of the default window.
        await this.fail(run, undefined, 'cancelled');
      }
    }
    await this.finish(run, capture?.output ?? acc.value);
  }

  private callInvoke(input: unknown, config: unknown): Promise<unknown> {
    return (this.target as { invoke(i: unknown, c: unknown): Promise<unknown> }).invoke(input, config);
  }

  private async callStream(input: unknown, config: unknown): Promise<AsyncIterable<unknown>> {
    return (this.target as { stream(i: unknown, c: unknown): Promise<AsyncIterable<unknown>> }).stream(input, config);
  }

  /** Resolves the session and loads its window; undefined for a call the wrapper leaves alone. */
  private async start(input: unknown, options: Partial<CallOptions> | undefined): Promise<Run | undefined> {
    if (input === null || input === undefined || isCommand(input)) return this.startResume(input, options);
    const parsed = inputMessagesOf(input);
    if (!parsed) {
      throw invalid(
        'withSessionStorage needs input made of messages: a string, a message, an array of messages, ' +
          `a prompt value or an object with "messages"; got ${typeof input}`,
      );
    }
    const configurable = (options as RunnableConfig | undefined)?.configurable as Record<string, unknown> | undefined;
    const session = resolveSession(this.sessionOptions, configurable);
    await announce(this.sessionOptions, session);
    const history = await loadTurnHistory(this.sessionOptions, session);
    const signal = (options as RunnableConfig | undefined)?.signal;
    // Leading system messages are instructions sent with every call, not conversation: they go
    // first, before the history, and are not stored (else each run would add another copy).
    const firstTurn = parsed.messages.findIndex((m) => m.getType() !== 'system');
    const instructions = firstTurn === -1 ? parsed.messages : parsed.messages.slice(0, firstTurn);
    const known = new Set(history.messages.map((m) => m.id));
    // An input message the history already holds (a client re-sending it) is not added twice.
    const inputMessages = parsed.messages.slice(instructions.length).filter((m) => !known.has(m.id));
    const messages = [...instructions, ...history.messages, ...inputMessages];
    let callInput: unknown = messages;
    if (parsed.state) {
      // A checkpointer would merge our window into the thread's own copy of it: replace that copy instead.
      const reset = hasCheckpointer(this.target) ? [new RemoveMessage({ id: REMOVE_ALL_MESSAGES })] : [];
      callInput = { ...(input as Record<string, unknown>), messages: [...reset, ...messages] };
    }
    let config = options as RunnableConfig | undefined;
    if (isGraph(this.target) && configurable?.thread_id === undefined) {
      // A checkpointer needs a thread: the session's own id is the natural one.
      config = { ...config, configurable: { ...configurable, thread_id: session.sessionId } };
    }
    const seen = instructions.length > 0 ? { ...historyOf([...instructions, ...history.messages]), session: history.session } : history;
    return { session, runId: generateRunId(), history: seen, inputMessages, callInput, config, stateInput: parsed.state, signal };
  }

  /**
   * A `Command` (or null) continues a checkpointed graph run, typically one paused for a human
   * decision and stored as `interrupted`. The thread holds the state: what the thread held before,
   * minus the paused run's own messages, is history; everything else in the result is saved as
   * the finished run (the paused run stays, out of the default window). The paused run is claimed
   * first, so it is resumed at most once: a second resume fails with AlreadyResumedError
   * (`conflict`) before anything runs. A paused run the checkpointer no longer holds (an
   * in-memory checkpointer after a restart) fails with `not_found` instead of doing nothing.
   */
  private async startResume(input: unknown, options: Partial<CallOptions> | undefined): Promise<Run | undefined> {
    const configurable = (options as RunnableConfig | undefined)?.configurable as Record<string, unknown> | undefined;
    const read = threadReader(this.target);
    if (!read || (configurable?.sessionId === undefined && configurable?.thread_id === undefined)) return undefined;
    const session = resolveSession(this.sessionOptions, configurable);
    const config: RunnableConfig = {
      ...(options as RunnableConfig | undefined),
      configurable: { ...configurable, thread_id: configurable?.thread_id ?? session.sessionId },
    };
    let thread;
    try {
      thread = await read(config);
    } catch {
      return undefined; // No checkpointer: LangGraph reports that itself.
    }
    await announce(this.sessionOptions, session);
    const latest = await latestRun(this.sessionOptions, session);
    const resumedFrom = latest?.metadata?.resumedFrom;
    if (latest && latest.status !== 'interrupted' && typeof resumedFrom === 'string' && !thread.paused) {
      throw new AlreadyResumedError(resumedFrom, latest, SOURCE);
    }
    if (latest?.status !== 'interrupted') return { session, runId: generateRunId(), history: historyOf(thread.messages), inputMessages: [], callInput: input, config, stateInput: true };
    if (!thread.paused) {
      throw new AgentSessionsError(
        'not_found',
        `${sessionNotFound(ref(session), SOURCE).message.replace(/^\[agent-sessions\] \[langchain\] session/, 'the paused run of session')}. ` +
          `The store holds its interrupted run '${latest.runId}', but this graph's checkpointer has no paused thread for it ` +
          '(an in-memory checkpointer such as MemorySaver loses it when the process ends): resuming needs a durable checkpointer ' +
          '(@langchain/langgraph-checkpoint-postgres, -mongodb, -redis) shared by every process that may resume',
        { source: SOURCE },
      );
    }
    const runId = generateRunId();
    await claimResume(this.sessionOptions.store, ref(session), latest.runId, runId, SOURCE);
    const pending = itemIds(latest);
    const prior = thread.messages.filter((m) => typeof m.id !== 'string' || !pending.has(m.id));
    const signal = (options as RunnableConfig | undefined)?.signal;
    return { session, runId, history: historyOf(prior), inputMessages: [], callInput: input, config, stateInput: true, resumes: latest.runId, signal };
  }

  /** Records a turn that did not finish (`failed`, `aborted`, `cancelled`) and frees its claim. */
  private async fail(run: Run, err: unknown, end: 'failed' | 'cancelled' = 'failed'): Promise<void> {
    const how = run.signal?.aborted ? 'aborted' : end;
    const extra = run.resumes ? { resumedFrom: run.resumes } : undefined;
    await saveFailure(this.sessionOptions, run.session, run.inputMessages, err, how, run.runId, extra);
    if (run.resumes) await releaseResume(this.sessionOptions.store, ref(run.session), run.resumes, run.runId);
  }

  /** The messages the run added to the input, from whatever the runnable returned. */
  private generated(run: Run, output: unknown): BaseMessage[] {
    if (isBaseMessage(output)) return [...run.inputMessages, ensureId(output)];
    if (typeof output === 'string') return [...run.inputMessages, ensureId(new AIMessage(output))];
    if (isRecord(output) && Array.isArray(output.messages)) {
      const all = (output.messages as unknown[]).filter(isBaseMessage);
      return newMessages(all, run.history);
    }
    throw invalid(
      'withSessionStorage cannot save this output: expected a message, a string or a state with "messages", ' +
        `got ${output === null ? 'null' : typeof output}`,
    );
  }

  /** Stores the finished turn; a failed save throws TurnNotStoredError carrying `output`. */
  private async finish(run: Run, output: unknown): Promise<void> {
    let messages: BaseMessage[];
    try {
      messages = this.generated(run, output);
    } catch (err) {
      await this.fail(run, err);
      throw err;
    }
    const interrupts = isRecord(output) ? output[INTERRUPT] : undefined;
    const end = Array.isArray(interrupts) && interrupts.length > 0 ? 'interrupted' : 'completed';
    await saveRun(this.sessionOptions, run.session, {
      messages,
      end,
      runId: run.runId,
      extra: run.resumes ? { resumedFrom: run.resumes } : undefined,
      expectedLastSeq: run.resumes ? undefined : expectedLastSeq(this.sessionOptions, run.history),
      result: { value: this.tag(output, run.session) },
    });
  }

  /** Hands the session id back: in a returned state, or in a returned message's `response_metadata`. */
  private tag(output: unknown, session: ResolvedSession): unknown {
    if (isBaseMessage(output)) {
      output.response_metadata = { ...output.response_metadata, sessionId: session.sessionId };
      return output;
    }
    if (isRecord(output) && Array.isArray(output.messages)) return { ...output, sessionId: session.sessionId };
    return output;
  }
}

/** What `withSessionStorage` returns for a `createAgent` agent: its own `invoke` result plus `sessionId`, and its own `stream`. */
export type SessionAgent<A extends AgentLike> = Omit<
  SessionRunnable<AgentInput<A>, AgentState<A> & SessionResult, AgentConfig<A>>,
  'stream'
> & {
  stream: A['stream'];
};

type AgentInput<A extends AgentLike> = A extends { invoke(state: infer S, ...rest: never[]): unknown } ? S : never;
type AgentState<A extends AgentLike> = A extends { invoke(...args: never[]): Promise<infer O> } ? O : never;
type AgentConfig<A extends AgentLike> = A extends { invoke(state: never, config?: infer C): unknown }
  ? RunnableConfig & NonNullable<C>
  : RunnableConfig;

/** What `withSessionStorage` returns for a Runnable: the same Runnable type with sessions. */
export type SessionWrapped<R> = R extends Runnable<infer I, infer O, infer C>
  ? SessionRunnable<I, O, C>
  : R extends AgentLike
    ? SessionAgent<R>
    : never;

/**
 * Gives a LangChain chat model, LCEL chain (input: messages, output: a message or string) or
 * `createAgent` agent durable sessions in `options.store`.
 */
export function withSessionStorage<R extends Runnable | AgentLike>(
  runnable: R,
  options: WithSessionStorageOptions,
): SessionWrapped<R> {
  if (!isLangChainRunnable(runnable) && !isLangChainAgent(runnable)) {
    throw new AgentSessionsError(
      'not_implemented',
      'withSessionStorage from @agent-sessions/langchain wraps LangChain runnables and createAgent agents only',
      { source: SOURCE },
    );
  }
  return new SessionRunnable(runnable, options) as unknown as SessionWrapped<R>;
}
