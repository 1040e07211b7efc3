import { ATTR, AgentSessionsError, openTurn, releaseResume, withTurnSpan, type AppendRunResult, type CallRecorder } from '@agent-sessions/core/adapter';
import { AIMessage, BaseMessage, isBaseMessage } from '@langchain/core/messages';
import { Runnable, mergeConfigs, type RunnableConfig } from '@langchain/core/runnables';
import { AsyncGeneratorWithSetup, IterableReadableStream } from '@langchain/core/utils/stream';
import { ensureId } from './codec.js';
import { isGraph, isLangChainAgent, isLangChainRunnable, type AgentLike } from './detect.js';
import { Accumulator, FinalOutput, invalid, isRecord, type Target } from './input.js';
import { TURN_SPAN } from './ops.js';
import type { SessionStorageOptions } from './options.js';
import { DEFAULT_AGENT_ID, SOURCE, checkOptions, expectedLastSeq, newMessages, ref, saveFailure, saveRun, type ResolvedSession } from './session.js';
import { startTurn, type Turn } from './turn-start.js';
import type { SessionCallOptions, SessionWrapped, WithSessionStorageOptions } from './wrapped.js';

export type { SessionAgent, SessionResult, SessionWrapped, WithSession, WithSessionStorageOptions, SessionCallOptions } from './wrapped.js';

/** LangGraph's key for the interrupts of a run that paused (`INTERRUPT`). */
const INTERRUPT = '__interrupt__';

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
> extends Runnable<RunInput, RunOutput, RunnableConfig> {
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

  override async invoke<const C = Record<string, unknown>>(input: RunInput, options?: SessionCallOptions<CallOptions, C>): Promise<RunOutput> {
    // One span per turn: the store's calls (readHistory, appendRun) nest under it.
    return withTurnSpan(TURN_SPAN, this.spanAttributes(false), async (span) => {
      const run = await startTurn(this.target, this.sessionOptions, input, options as RunnableConfig | undefined);
      if (!run) return this.callInvoke(input, options) as Promise<RunOutput>;
      noteHistory(span, run);
      let output: unknown;
      try {
        output = await this.callInvoke(run.callInput, run.config);
      } catch (err) {
        await this.fail(run, err);
        throw err;
      }
      noteStored(span, await this.finish(run, output));
      return this.tag(output, run.session) as RunOutput;
    }, { telemetry: this.sessionOptions.telemetry });
  }

  private spanAttributes(stream: boolean) {
    return { framework: 'langchain', agentId: this.sessionOptions.agentId ?? DEFAULT_AGENT_ID, 'agent_sessions.turn.stream': stream };
  }

  override async stream<const C = Record<string, unknown>>(
    input: RunInput,
    options?: SessionCallOptions<CallOptions, C>,
  ): Promise<IterableReadableStream<RunOutput>> {
    // As Runnable.stream does: start the run now, so `await stream()` fails if the start fails.
    const generator = new AsyncGeneratorWithSetup({
      generator: this.streamRun(input, options as Partial<CallOptions> | undefined),
      config: options as RunnableConfig | undefined,
    });
    await generator.setup;
    return IterableReadableStream.fromAsyncGenerator(generator) as IterableReadableStream<RunOutput>;
  }

  override async *_streamIterator(input: RunInput, options?: Partial<CallOptions>): AsyncGenerator<RunOutput> {
    yield* this.streamRun(input, options);
  }

  private async *streamRun(input: RunInput, options?: Partial<CallOptions>): AsyncGenerator<RunOutput> {
    // The turn's span stays open while the caller reads the stream; it ends once the turn is
    // stored (or recorded as failed or cancelled). Store calls run inside it, so they nest.
    const turn = openTurn(TURN_SPAN, this.spanAttributes(true), { telemetry: this.sessionOptions.telemetry });
    let outcome: unknown;
    try {
      const run = await turn.run(async (span) => {
        const started = await startTurn(this.target, this.sessionOptions, input, options as RunnableConfig | undefined);
        if (started) noteHistory(span, started);
        return started;
      });
      if (!run) {
        yield* (await this.callStream(input, options)) as AsyncIterable<RunOutput>;
        return;
      }
      const capture = isGraph(this.target) ? new FinalOutput() : undefined;
      const config = capture ? mergeConfigs(run.config, { callbacks: [capture] }) : run.config;
      let stream: AsyncIterable<unknown>;
      try {
        stream = await turn.run(() => this.callStream(run.callInput, config));
      } catch (err) {
        await turn.run(() => this.fail(run, err));
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
        await turn.run(() => this.fail(run, err));
        throw err;
      } finally {
        if (state === 'streaming') {
          // The caller stopped reading: keep the input, out of the default window.
          await turn.run(() => this.fail(run, undefined, 'cancelled'));
        }
      }
      await turn.run(async (span) => noteStored(span, await this.finish(run, capture?.output ?? acc.value)));
    } catch (err) {
      outcome = err ?? new Error('stream failed');
      throw err;
    } finally {
      turn.end(outcome);
      await turn.closed;
    }
  }

  private callInvoke(input: unknown, config: unknown): Promise<unknown> {
    return (this.target as { invoke(i: unknown, c: unknown): Promise<unknown> }).invoke(input, config);
  }

  private async callStream(input: unknown, config: unknown): Promise<AsyncIterable<unknown>> {
    return (this.target as { stream(i: unknown, c: unknown): Promise<AsyncIterable<unknown>> }).stream(input, config);
  }

  /** Records a turn that did not finish (`failed`, `aborted`, `cancelled`) and frees its claim. */
  private async fail(run: Turn, err: unknown, end: 'failed' | 'cancelled' = 'failed'): Promise<void> {
    const how = run.signal?.aborted ? 'aborted' : end;
    const extra = run.resumes ? { resumedFrom: run.resumes } : undefined;
    await saveFailure(this.sessionOptions, run.session, run.inputMessages, err, how, run.runId, extra);
    if (run.resumes) await releaseResume(this.sessionOptions.store, ref(run.session), run.resumes, run.runId);
  }

  /** The messages the run added to the input, from whatever the runnable returned. */
  private generated(run: Turn, output: unknown): BaseMessage[] {
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
  private async finish(run: Turn, output: unknown): Promise<AppendRunResult | undefined> {
    let messages: BaseMessage[];
    try {
      messages = this.generated(run, output);
    } catch (err) {
      await this.fail(run, err);
      throw err;
    }
    const interrupts = isRecord(output) ? output[INTERRUPT] : undefined;
    const end = Array.isArray(interrupts) && interrupts.length > 0 ? 'interrupted' : 'completed';
    return saveRun(this.sessionOptions, run.session, {
      messages,
      end,
      runId: run.runId,
      extra: run.resumes ? { resumedFrom: run.resumes } : undefined,
      expectedLastSeq: run.resumes ? undefined : expectedLastSeq(this.sessionOptions, run.history),
      result: { value: this.tag(output, run.session) },
      history: run.history,
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

/** The window's size on the turn span (counts only). */
function noteHistory(span: CallRecorder, run: Turn): void {
  if (!span.recording) return;
  span.set({
    [ATTR.runCount]: run.history.runs?.length,
    'agent_sessions.window.items': run.history.messages.length,
    'agent_sessions.window.dropped': run.history.dropped,
  });
}

/** What the turn stored, on its span. */
function noteStored(span: CallRecorder, stored: AppendRunResult | undefined): void {
  if (stored) span.set({ [ATTR.itemCount]: stored.run.items.length, 'agent_sessions.run.status': stored.run.status });
}
