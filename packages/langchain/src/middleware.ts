import { generateRunId } from '@agent-sessions/core/adapter';
import { RemoveMessage, type BaseMessage } from '@langchain/core/messages';
import { createMiddleware } from 'langchain';
import { z } from 'zod/v4';
import type { SessionStorageOptions } from './options.js';
import { checkConfigurable } from './configurable.js';
import { SOURCE, announce, checkOptions, loadTurnHistory, resolveSession, saveFailure, saveRun, type ResolvedSession } from './session.js';

/** LangGraph's marker that clears the messages channel (`REMOVE_ALL_MESSAGES` in `@langchain/langgraph`). */
const REMOVE_ALL_MESSAGES = '__remove_all__';

/** Options of `sessionStorageMiddleware`. */
export type SessionStorageMiddlewareOptions = SessionStorageOptions;

/**
 * The state the middleware adds. `sessionId` is public: pass it in the input state to name the
 * session, read it from the result to learn the session used. The `_` fields are private
 * bookkeeping (LangChain keeps them out of the agent's input and output types).
 */
const stateSchema = z.object({
  // A default (not `.optional()`) so the agent's result types `sessionId` as `string`: beforeAgent always sets it.
  sessionId: z.string().default(''),
  /** Ids of the messages loaded from the store for this run: never saved again. */
  _agentSessionsHistory: z.array(z.string()).optional(),
  /** Ids of every message already accounted for; with a checkpointer, what is not in it is new input. */
  _agentSessionsSeen: z.array(z.string()).optional(),
  /** The run's id, so a failure recorded twice (retries) is one run. */
  _agentSessionsRunId: z.string().optional(),
  /** The session's lastSeq when the window was read: a stale turn is refused with `staleHistory: 'reject'`. */
  _agentSessionsLastSeq: z.number().optional(),
});

function isInterrupt(err: unknown): boolean {
  // LangGraph pauses a run by throwing these; a pause is not a failure.
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'GraphInterrupt' || name === 'NodeInterrupt' || name === 'ParentCommand';
}

function idsOf(messages: readonly BaseMessage[]): string[] {
  return messages.map((m) => m.id).filter((id): id is string => typeof id === 'string');
}

/**
 * A `createAgent` middleware that keeps the agent's conversations in `options.store`:
 * - `beforeAgent` loads the session's window and puts it before the new input in `messages`;
 * - `afterAgent` saves the messages the run added (picked by id) as one run;
 * - `wrapModelCall` records a run whose model call throws as `failed` with its input (afterAgent
 *   does not run when the agent throws).
 *
 * The session comes from `configurable.sessionId`, `configurable.thread_id` or the input state's
 * `sessionId`; a run naming none gets a new id, returned in the result's `sessionId`.
 *
 * With a LangGraph checkpointer the window replaces the thread's copy of the messages on every
 * run (so nothing is duplicated): the store is the source of truth, the checkpoint holds the window.
 */
export function sessionStorageMiddleware(options: SessionStorageMiddlewareOptions) {
  checkOptions(options, 'sessionStorageMiddleware');

  const sessionOf = (sessionId: string | undefined, configurable: Record<string, unknown> | undefined): ResolvedSession => {
    checkConfigurable(configurable, options.allowedConfigurableKeys, SOURCE);
    return resolveSession(options, configurable, sessionId === '' ? undefined : sessionId);
  };

  return createMiddleware({
    name: 'AgentSessionsStorage',
    stateSchema,
    beforeAgent: async (state, runtime) => {
      const session = sessionOf(state.sessionId, runtime.configurable);
      await announce(options, session);
      // Messages of an earlier run already in the thread (a checkpointer) are not new input.
      const seen = new Set(state._agentSessionsSeen ?? []);
      const input = state.messages.filter((m) => m.id === undefined || !seen.has(m.id));
      const history = await loadTurnHistory(options, session);
      const historyIds = new Set(idsOf(history.messages));
      const fresh = input.filter((m) => m.id === undefined || !historyIds.has(m.id));
      return {
        messages: [new RemoveMessage({ id: REMOVE_ALL_MESSAGES }), ...history.messages, ...fresh],
        sessionId: session.sessionId,
        _agentSessionsHistory: [...historyIds],
        _agentSessionsSeen: [...historyIds, ...idsOf(fresh)],
        _agentSessionsRunId: generateRunId(),
        _agentSessionsLastSeq: history.session?.lastSeq ?? 0,
      };
    },
    wrapModelCall: async (request, handler) => {
      try {
        return await handler(request);
      } catch (err) {
        if (isInterrupt(err)) throw err;
        const state = request.state;
        const session = sessionOf(state.sessionId, request.runtime.configurable);
        const history = new Set(state._agentSessionsHistory ?? []);
        const added = state.messages.filter((m) => m.id === undefined || !history.has(m.id));
        const runId = state._agentSessionsRunId ? `${state._agentSessionsRunId}-failed` : undefined;
        await saveFailure(options, session, added, err, 'failed', runId);
        throw err;
      }
    },
    afterAgent: async (state, runtime) => {
      const session = sessionOf(state.sessionId, runtime.configurable);
      const history = new Set(state._agentSessionsHistory ?? []);
      const added = state.messages.filter((m) => m.id === undefined || !history.has(m.id));
      await saveRun(options, session, {
        messages: added,
        end: 'completed',
        runId: state._agentSessionsRunId,
        expectedLastSeq: options.staleHistory === 'reject' ? (state._agentSessionsLastSeq ?? 0) : undefined,
      });
      return { _agentSessionsSeen: idsOf(state.messages), _agentSessionsHistory: [] };
    },
  });
}
