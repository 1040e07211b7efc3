import { langchainItemText } from './transcript.js';
import {
  AgentSessionsError,
  TURN_STATUS,
  assertId,
  authorizeTurn,
  generateRunId,
  generateSessionId,
  loadHistory,
  storeTurn,
  storedInput,
  turnMetadata,
  validateWindow,
  foldSummary,
  summaryWindow,
  validateSummary,
  summaryLogger,
  warnWindowCut,
  type AppendRunInput,
  type AppendRunResult,
  type JsonObject,
  type Run,
  type SessionHeader,
  type SessionRef,
  type TurnEnd, turnLabels } from '@agent-sessions/core/adapter';
import type { BaseMessage, StoredMessage } from '@langchain/core/messages';
import { asItems, fromStoredMessages, langchainCodec, sumUsage, toStoredMessages, LANGCHAIN_FORMAT } from './codec.js';
import { checkLogger, logOf } from './ops.js';
import { langchainSummaryItem } from './summary.js';
import type { SessionInfo, SessionStorageOptions } from './options.js';

export const SOURCE = 'langchain';
export const DEFAULT_AGENT_ID = 'default';

/** A session resolved for one run. */
export interface ResolvedSession extends SessionRef {
  generated: boolean;
}

/** The history a run starts from: the messages to hand the model, and their stored form by id. */
export interface LoadedHistory {
  messages: BaseMessage[];
  storedById: Map<string, string>;
  /** The session's header as this caller sees it, read with the window (null: absent for them). */
  session?: SessionHeader | null | undefined;
  /** The runs the window came from, oldest first (what the summary needs to know what leaves it). */
  runs?: readonly Run[] | undefined;
  /** History items the window left out (limits, pair repair). */
  dropped?: number | undefined;
}

/** Checks options once, when the wrapper or middleware is built, not on the first run. */
export function checkOptions(options: SessionStorageOptions, what: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new AgentSessionsError('invalid_input', `${what} needs an options object with a store`, { source: SOURCE });
  }
  const store = options.store as unknown;
  if (typeof store !== 'object' || store === null || typeof (store as { appendRun?: unknown }).appendRun !== 'function') {
    throw new AgentSessionsError('invalid_input', `${what}: missing option "store" (an agent-sessions SessionStore)`, {
      source: SOURCE,
    });
  }
  if (options.agentId !== undefined) assertId(options.agentId, 'agentId', SOURCE);
  if (options.window) validateWindow(options.window);
  validateSummary(options.summary);
  checkLogger(options.logger);
}

function pickId(configurable: Record<string, unknown>, key: string): string | undefined {
  const value = configurable[key];
  if (value === undefined || value === null || value === '') return undefined;
  assertId(value, `configurable.${key}`, SOURCE);
  return value;
}

/**
 * The session a call names: `configurable.sessionId`, else `configurable.thread_id` (LangGraph's
 * name for it), else `fallback`, else a new unguessable id. `configurable.userId` scopes it to a user.
 */
export function resolveSession(
  options: SessionStorageOptions,
  configurable: Record<string, unknown> | undefined,
  fallback?: string,
): ResolvedSession {
  const c = configurable ?? {};
  const named = pickId(c, 'sessionId') ?? pickId(c, 'thread_id') ?? fallback;
  return {
    agentId: options.agentId ?? DEFAULT_AGENT_ID,
    sessionId: named ?? generateSessionId(),
    userId: pickId(c, 'userId'),
    generated: named === undefined,
  };
}

export async function announce(options: SessionStorageOptions, session: ResolvedSession): Promise<void> {
  if (!options.onSession) return;
  const info: SessionInfo = {
    agentId: session.agentId,
    sessionId: session.sessionId,
    userId: session.userId,
    generated: session.generated,
  };
  await options.onSession(info);
}

export function ref(session: ResolvedSession): SessionRef {
  return { agentId: session.agentId, sessionId: session.sessionId, userId: session.userId };
}

/** JSON with object keys sorted: stores such as PostgreSQL jsonb give keys back in their own order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The lastSeq a turn's save must still find, when the options refuse stale history. */
export function expectedLastSeq(options: SessionStorageOptions, history: LoadedHistory): number | undefined {
  return options.staleHistory === 'reject' ? (history.session?.lastSeq ?? 0) : undefined;
}

/** The window options with the summary (if any) before the history. */
export function windowOf(options: SessionStorageOptions) {
  return summaryWindow(options.window ?? {}, options.summary, langchainSummaryItem);
}

/** Reads the window (one indexed range read in the common case); a new session has none. */
export async function loadMessages(options: SessionStorageOptions, session: ResolvedSession): Promise<LoadedHistory> {
  if (session.generated) return { messages: [], storedById: new Map(), runs: [] };
  const window = await loadHistory(options.store, ref(session), langchainCodec, windowOf(options));
  warnWindowCut(logOf(options), ref(session), window.dropped, window.items.length);
  return { ...historyOf(fromStoredMessages(window.items)), session: window.session, runs: window.runs, dropped: window.dropped };
}

/**
 * Reads the window for a turn and refuses, before the model or any tool runs, a session this
 * caller may not use (another user's). An ongoing session costs no extra read.
 */
export async function loadTurnHistory(options: SessionStorageOptions, session: ResolvedSession): Promise<LoadedHistory> {
  const history = await loadMessages(options, session);
  if (!session.generated) {
    await authorizeTurn(options.store, ref(session), history.session ?? null, { source: SOURCE, mustExist: options.mustExist });
  }
  return history;
}

/** A history made of these messages. */
export function historyOf(messages: BaseMessage[]): LoadedHistory {
  // Serialized the way a run's messages will be, so a message the run left alone compares equal.
  const storedById = new Map<string, string>();
  toStoredMessages(messages).forEach((item, i) => {
    const id = messages[i]?.id;
    if (typeof id === 'string') storedById.set(id, canonical(item));
  });
  return { messages, storedById };
}

/**
 * The messages a run added: those whose id the history did not hold. A message that reuses a
 * history id with different content (a model that numbers its ids per instance) counts as new
 * rather than being lost.
 */
export function newMessages(all: readonly BaseMessage[], history: LoadedHistory): BaseMessage[] {
  return all.filter((m) => {
    const id = m.id;
    if (typeof id !== 'string' || !history.storedById.has(id)) return true;
    const [stored] = toStoredMessages([m]) as [StoredMessage];
    return canonical(stored) !== history.storedById.get(id);
  });
}

/** The session's newest run (one indexed read), to tell a paused turn from a finished one. */
export async function latestRun(options: SessionStorageOptions, session: ResolvedSession): Promise<Run | undefined> {
  const [latest] = await options.store.listRuns({ ...ref(session), limit: 1 });
  return latest;
}

/** The message ids a stored run holds. */
export function itemIds(run: Run): Set<string> {
  const ids = new Set<string>();
  for (const item of run.items as unknown as StoredMessage[]) {
    const id = item?.data?.id;
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

export interface SaveInput {
  messages: readonly BaseMessage[];
  /** How the turn ended (see "How a turn is stored" in @agent-sessions/core). */
  end: TurnEnd;
  error?: unknown;
  runId?: string | undefined;
  /** More metadata for the run (`resumedFrom`). */
  extra?: JsonObject | undefined;
  /** Refuse the append with `conflict` unless the session's lastSeq is still this. */
  expectedLastSeq?: number | undefined;
  /** What the framework returned: a failed save throws TurnNotStoredError carrying it. */
  result?: { value: unknown } | undefined;
  /** The history the turn was given: the summary knows from it which runs leave the window. */
  history?: LoadedHistory | undefined;
}

/**
 * Appends one run holding `messages` (instructions left out). A run with nothing in it (a
 * failure before any input) is not written.
 */
export async function saveRun(options: SessionStorageOptions, session: ResolvedSession, input: SaveInput): Promise<AppendRunResult | undefined> {
  const items = storedInput(toStoredMessages(input.messages), langchainCodec);
  if (items.length === 0) return undefined;
  const metadata = turnMetadata(input.end, { error: input.error, extra: input.extra });
  const run: AppendRunInput = {
    ...ref(session),
    runId: input.runId ?? generateRunId(),
    status: TURN_STATUS[input.end],
    format: LANGCHAIN_FORMAT,
    items: asItems(items),
    usage: sumUsage(input.messages),
    metadata: Object.keys(metadata).length > 0 ? metadata : null,
    ttl: options.ttl,
    expectedLastSeq: input.expectedLastSeq,
    // The session list's title (first user text) and preview (latest message).
    ...turnLabels(items, langchainItemText),
  };
  const stored = input.result ? await storeTurn(options.store, run, input.result.value, SOURCE) : await options.store.appendRun(run);
  if (options.summary && (input.end === 'completed' || options.window?.includeFailed)) {
    const history = input.history;
    const folding = foldSummary({
      store: options.store,
      ref: ref(session),
      options: options.summary,
      window: options.window,
      session: history?.runs ? stored.session : undefined,
      runs: history?.runs ? [...history.runs, stored.run] : undefined,
      source: SOURCE,
      logger: summaryLogger(logOf(options)),
    });
    // Off the hot path unless asked: foldSummary never rejects.
    if (options.summary.await) await folding;
  }
  return stored;
}

/**
 * Records a turn that did not complete. The run's own error stays the one the caller sees: if
 * recording fails too, that error is attached to it as the non-enumerable property `agentSessionsSaveError`.
 */
export async function saveFailure(
  options: SessionStorageOptions,
  session: ResolvedSession,
  messages: readonly BaseMessage[],
  error: unknown,
  end: TurnEnd = 'failed',
  runId?: string,
  extra?: JsonObject,
): Promise<void> {
  try {
    await saveRun(options, session, { messages, end, error, runId, extra });
  } catch (saveError) {
    if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
      Object.defineProperty(error, 'agentSessionsSaveError', { value: saveError, enumerable: false });
    }
  }
}
