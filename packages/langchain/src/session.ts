import { AgentSessionsError, assertId, authorizeTurn, generateRunId, generateSessionId, loadHistory, validateWindow, type JsonObject, type RunStatus, type SessionRef } from '@agent-sessions/core/adapter';
import type { BaseMessage, StoredMessage } from '@langchain/core/messages';
import { asItems, fromStoredMessages, langchainCodec, sumUsage, toStoredMessages, LANGCHAIN_FORMAT } from './codec.js';
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

function ref(session: ResolvedSession): SessionRef {
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

/** Reads the window (one indexed range read in the common case); a new session has none. */
export async function loadMessages(options: SessionStorageOptions, session: ResolvedSession): Promise<LoadedHistory> {
  if (session.generated) return { messages: [], storedById: new Map() };
  const window = await loadHistory(options.store, ref(session), langchainCodec, options.window ?? {});
  return historyOf(fromStoredMessages(window.items));
}

/**
 * Reads the window for a turn and refuses, before the model or any tool runs, a session this
 * caller may not use (another user's). An ongoing session costs no extra read.
 */
export async function loadTurnHistory(options: SessionStorageOptions, session: ResolvedSession): Promise<LoadedHistory> {
  const history = await loadMessages(options, session);
  if (!session.generated && history.messages.length === 0 && session.userId !== undefined) {
    await authorizeTurn(options.store, ref(session), await options.store.getSession(ref(session)), { source: SOURCE });
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

/** The item ids of the session's newest run if it was interrupted (a paused graph run), else none. */
export async function pendingIds(options: SessionStorageOptions, session: ResolvedSession): Promise<Set<string>> {
  const [latest] = await options.store.listRuns({ ...ref(session), limit: 1 });
  const ids = new Set<string>();
  if (latest?.status !== 'interrupted') return ids;
  for (const item of latest.items as unknown as StoredMessage[]) {
    const id = item?.data?.id;
    if (typeof id === 'string') ids.add(id);
  }
  return ids;
}

export interface SaveInput {
  messages: readonly BaseMessage[];
  status: RunStatus;
  error?: unknown;
  runId?: string | undefined;
}

/** Appends one run holding `messages`. A run with nothing in it (a failure before any input) is not written. */
export async function saveRun(options: SessionStorageOptions, session: ResolvedSession, input: SaveInput): Promise<void> {
  if (input.messages.length === 0) return;
  const usage = sumUsage(input.messages);
  const metadata: JsonObject | null =
    input.error === undefined ? null : { error: input.error instanceof Error ? input.error.message : String(input.error) };
  await options.store.appendRun({
    ...ref(session),
    runId: input.runId ?? generateRunId(),
    status: input.status,
    format: LANGCHAIN_FORMAT,
    items: asItems(toStoredMessages(input.messages)),
    usage,
    metadata,
    ttl: options.ttl,
  });
}

/**
 * Records a failed run. The run's own error stays the one the caller sees: if recording fails
 * too, that error is attached to it as the non-enumerable property `agentSessionsSaveError`.
 */
export async function saveFailure(
  options: SessionStorageOptions,
  session: ResolvedSession,
  messages: readonly BaseMessage[],
  error: unknown,
  status: RunStatus = 'failed',
  runId?: string,
): Promise<void> {
  try {
    await saveRun(options, session, { messages, status, error, runId });
  } catch (saveError) {
    if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
      Object.defineProperty(error, 'agentSessionsSaveError', { value: saveError, enumerable: false });
    }
  }
}
