import { AgentSessionsError } from '@agent-sessions/core/adapter';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import {
  AIMessage,
  BaseMessage,
  RemoveMessage,
  isBaseMessage,
  isBaseMessageChunk,
  type BaseMessageLike,
} from '@langchain/core/messages';
import { Runnable, mergeConfigs, type RunnableConfig } from '@langchain/core/runnables';
import { AsyncGeneratorWithSetup, IterableReadableStream, concat } from '@langchain/core/utils/stream';
import { ensureId, toMessage } from './codec.js';
import { hasCheckpointer, isCommand, isGraph, isLangChainAgent, isLangChainRunnable, type AgentLike } from './detect.js';
import type { SessionStorageOptions } from './options.js';
import {
  SOURCE,
  announce,
  checkOptions,
  historyOf,
  loadTurnHistory,
  pendingIds,
  newMessages,
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

/** Whatever can be invoked with messages and return messages: a chat model, an LCEL chain, a graph. */
type Target = Runnable | AgentLike;

/** One run in progress. */
interface Run {
  session: ResolvedSession;
  history: LoadedHistory;
  inputMessages: BaseMessage[];
  callInput: unknown;
  config: RunnableConfig | undefined;
  /** The input was a state object (`{ messages }`): the output is one too, or a message. */
  stateInput: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): AgentSessionsError {
  return new AgentSessionsError('invalid_input', message, { source: SOURCE });
}

/** The input's own messages, as BaseMessages with ids; undefined for input that is not messages. */
function inputMessagesOf(input: unknown): { messages: BaseMessage[]; state: boolean } | undefined {
  if (typeof input === 'string') return { messages: [toMessage(input)], state: false };
  if (isBaseMessage(input)) return { messages: [ensureId(input)], state: false };
  if (Array.isArray(input)) return { messages: input.map((m) => toMessage(m as BaseMessageLike)), state: false };
  if (isRecord(input) && typeof input.toChatMessages === 'function') {
    // A PromptValue (the output of a ChatPromptTemplate).
    return { messages: (input.toChatMessages as () => BaseMessage[])().map((m) => ensureId(m)), state: false };
  }
  if (isRecord(input) && 'messages' in input) {
    const raw = input.messages;
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    return { messages: list.map((m) => toMessage(m as BaseMessageLike)), state: true };
  }
  return undefined;
}

/** Reads a graph thread's messages (`getState`), for agents and compiled graphs. */
function threadReader(target: Target): ((config: RunnableConfig) => Promise<BaseMessage[]>) | undefined {
  const graph = (isLangChainAgent(target) ? target.graph : target) as {
    getState?: (config: RunnableConfig) => Promise<{ values?: { messages?: unknown } }>;
  };
  if (!isGraph(target) || typeof graph.getState !== 'function') return undefined;
  return async (config) => {
    const snapshot = await graph.getState!(config);
    const messages = snapshot.values?.messages;
    return Array.isArray(messages) ? messages.filter(isBaseMessage) : [];
  };
}

/** Catches the final state of a graph run, whatever `streamMode` the caller streams with. */
class FinalOutput extends BaseCallbackHandler {
  name = 'agent_sessions_final_output';
  override awaitHandlers = true;
  private root: string | undefined;
  output: unknown;

  override handleChainStart(_chain: unknown, _inputs: unknown, runId: string): void {
    this.root ??= runId;
  }

  override handleChainEnd(outputs: unknown, runId: string): void {
    if (runId === this.root) this.output = outputs;
  }
}

/** Adds up streamed chunks: message chunks and strings are concatenated, anything else replaces. */
class Accumulator {
  value: unknown = undefined;

  add(chunk: unknown): void {
    if (this.value === undefined) this.value = chunk;
    else if (isBaseMessageChunk(chunk) && isBaseMessageChunk(this.value)) this.value = this.value.concat(chunk);
    else if (typeof chunk === 'string' && typeof this.value === 'string') this.value = concat(this.value, chunk);
    else this.value = chunk;
  }
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
      await saveFailure(this.sessionOptions, run.session, run.inputMessages, err);
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
      await saveFailure(this.sessionOptions, run.session, run.inputMessages, err);
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
      await saveFailure(this.sessionOptions, run.session, run.inputMessages, err);
      throw err;
    } finally {
      if (state === 'streaming') {
        // The caller stopped reading: keep the input, out of the default window.
        const reason = new Error('the stream was closed before the run finished');
        await saveFailure(this.sessionOptions, run.session, run.inputMessages, reason, 'interrupted');
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
    const seen = instructions.length > 0 ? historyOf([...instructions, ...history.messages]) : history;
    return { session, history: seen, inputMessages, callInput, config, stateInput: parsed.state };
  }

  /**
   * A `Command` (or null) continues a checkpointed graph run, typically one paused for a human
   * decision and stored as `interrupted`. The thread holds the state: what the thread held before,
   * minus the paused run's own messages, is history; everything else in the result is saved as
   * the finished run (the paused run stays, out of the default window).
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
    let before: BaseMessage[];
    try {
      before = await read(config);
    } catch {
      return undefined; // No checkpointer: LangGraph reports that itself.
    }
    await announce(this.sessionOptions, session);
    const pending = await pendingIds(this.sessionOptions, session);
    const prior = before.filter((m) => typeof m.id !== 'string' || !pending.has(m.id));
    return { session, history: historyOf(prior), inputMessages: [], callInput: input, config, stateInput: true };
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

  private async finish(run: Run, output: unknown): Promise<void> {
    let messages: BaseMessage[];
    try {
      messages = this.generated(run, output);
    } catch (err) {
      await saveFailure(this.sessionOptions, run.session, run.inputMessages, err);
      throw err;
    }
    const interrupts = isRecord(output) ? output[INTERRUPT] : undefined;
    const status = Array.isArray(interrupts) && interrupts.length > 0 ? 'interrupted' : 'completed';
    await saveRun(this.sessionOptions, run.session, { messages, status });
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
