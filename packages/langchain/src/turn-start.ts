import { AgentSessionsError, AlreadyResumedError, claimResume, generateRunId, sessionNotFound } from '@agent-sessions/core/adapter';
import { RemoveMessage, type BaseMessage } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { checkConfigurable } from './configurable.js';
import { hasCheckpointer, isCommand, isGraph } from './detect.js';
import { inputMessagesOf, invalid, threadReader, type Target } from './input.js';
import { logOf } from './ops.js';
import type { SessionStorageOptions } from './options.js';
import {
  SOURCE,
  announce,
  historyOf,
  itemIds,
  latestRun,
  loadTurnHistory,
  ref,
  resolveSession,
  type LoadedHistory,
  type ResolvedSession,
} from './session.js';

// How a wrapped call starts: which session, which history, what the runnable is called with.
// A fresh turn loads the window before the input; a `Command` resumes a paused graph run.

/** LangGraph's marker that clears the messages channel (`REMOVE_ALL_MESSAGES` in `@langchain/langgraph`). */
const REMOVE_ALL_MESSAGES = '__remove_all__';

/** One wrapped call in progress. */
export interface Turn {
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

function configurableOf(options: SessionStorageOptions, config: RunnableConfig | undefined): Record<string, unknown> | undefined {
  const configurable = config?.configurable as Record<string, unknown> | undefined;
  checkConfigurable(configurable, options.allowedConfigurableKeys, SOURCE);
  return configurable;
}

/** Resolves the session and loads its window; undefined for a call the wrapper leaves alone. */
export async function startTurn(
  target: Target,
  options: SessionStorageOptions,
  input: unknown,
  callConfig: RunnableConfig | undefined,
): Promise<Turn | undefined> {
  if (input === null || input === undefined || isCommand(input)) return startResume(target, options, input, callConfig);
  const parsed = inputMessagesOf(input);
  if (!parsed) {
    throw invalid(
      'withSessionStorage needs input made of messages: a string, a message, an array of messages, ' +
        `a prompt value or an object with "messages"; got ${typeof input}`,
    );
  }
  const configurable = configurableOf(options, callConfig);
  const session = resolveSession(options, configurable);
  await announce(options, session);
  const history = await loadTurnHistory(options, session);
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
    const reset = hasCheckpointer(target) ? [new RemoveMessage({ id: REMOVE_ALL_MESSAGES })] : [];
    callInput = { ...(input as Record<string, unknown>), messages: [...reset, ...messages] };
  }
  let config = callConfig;
  if (isGraph(target) && configurable?.thread_id === undefined) {
    // A checkpointer needs a thread: the session's own id is the natural one.
    config = { ...config, configurable: { ...configurable, thread_id: session.sessionId } };
  }
  const seen = instructions.length > 0 ? { ...historyOf([...instructions, ...history.messages]), session: history.session, runs: history.runs } : history;
  return { session, runId: generateRunId(), history: seen, inputMessages, callInput, config, stateInput: parsed.state, signal: callConfig?.signal };
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
async function startResume(
  target: Target,
  options: SessionStorageOptions,
  input: unknown,
  callConfig: RunnableConfig | undefined,
): Promise<Turn | undefined> {
  const configurable = configurableOf(options, callConfig);
  const read = threadReader(target);
  if (!read || (configurable?.sessionId === undefined && configurable?.thread_id === undefined)) return undefined;
  const session = resolveSession(options, configurable);
  const config: RunnableConfig = {
    ...callConfig,
    configurable: { ...configurable, thread_id: configurable?.thread_id ?? session.sessionId },
  };
  let thread;
  try {
    thread = await read(config);
  } catch {
    return undefined; // No checkpointer: LangGraph reports that itself.
  }
  await announce(options, session);
  const latest = await latestRun(options, session);
  const resumedFrom = latest?.metadata?.resumedFrom;
  if (latest && latest.status !== 'interrupted' && typeof resumedFrom === 'string' && !thread.paused) {
    throw new AlreadyResumedError(resumedFrom, latest, SOURCE);
  }
  if (latest?.status !== 'interrupted') {
    return { session, runId: generateRunId(), history: historyOf(thread.messages), inputMessages: [], callInput: input, config, stateInput: true };
  }
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
  await claimResume(options.store, ref(session), latest.runId, runId, SOURCE, Date.now(), logOf(options));
  const pending = itemIds(latest);
  const prior = thread.messages.filter((m) => typeof m.id !== 'string' || !pending.has(m.id));
  return { session, runId, history: historyOf(prior), inputMessages: [], callInput: input, config, stateInput: true, resumes: latest.runId, signal: callConfig?.signal };
}
