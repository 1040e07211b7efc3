import { ATTR, generateRunId, openTurn, withTurnSpan, type AppendRunResult, type CallRecorder, type OpenTurn } from '@agent-sessions/core/adapter';
import { RemoveMessage, type BaseMessage } from '@langchain/core/messages';
import { createMiddleware } from 'langchain';
import { z } from 'zod/v4';
import type { SessionStorageOptions } from './options.js';
import { checkConfigurable } from './configurable.js';
import { TURN_SPAN } from './ops.js';
import { DEFAULT_AGENT_ID, SOURCE, announce, checkOptions, loadTurnHistory, resolveSession, saveFailure, saveRun, type ResolvedSession } from './session.js';

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

/**
 * How long a turn span may stay open when its run never reaches afterAgent in this process (an
 * interrupt that pauses it, a tool that throws): then it is ended, marked unfinished.
 */
const OPEN_TURN_MS = 10 * 60_000;

function noteStored(span: CallRecorder, stored: AppendRunResult | undefined): void {
  if (stored) span.set({ [ATTR.itemCount]: stored.run.items.length, 'agent_sessions.run.status': stored.run.status });
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

  // The turn spans of runs in progress, by run id: a middleware has no hook around the whole
  // run, so the span opened in beforeAgent is ended by afterAgent (or the failed model call),
  // and the store calls those hooks make run inside it.
  const open = new Map<string, OpenTurn>();
  const attributes = { framework: 'langchain', agentId: options.agentId ?? DEFAULT_AGENT_ID, 'agent_sessions.turn.middleware': true };
  const endTurn = (runId: string | undefined, error?: unknown): void => {
    const turn = runId === undefined ? undefined : open.get(runId);
    if (!turn) return;
    open.delete(runId!);
    turn.end(error);
  };
  /** Runs `task` in the run's turn span; a run this process did not start (resumed elsewhere) gets a span of its own. */
  const inTurn = <T>(runId: string | undefined, task: (span: CallRecorder) => Promise<T>): Promise<T> => {
    const turn = runId === undefined ? undefined : open.get(runId);
    return turn ? turn.run(task) : withTurnSpan(TURN_SPAN, attributes, task, { telemetry: options.telemetry });
  };

  return createMiddleware({
    name: 'AgentSessionsStorage',
    stateSchema,
    beforeAgent: async (state, runtime) => {
      const runId = generateRunId();
      const turn = openTurn(TURN_SPAN, attributes, { telemetry: options.telemetry });
      open.set(runId, turn);
      const timer = setTimeout(() => {
        void turn.run(async (span) => span.set({ 'agent_sessions.turn.unfinished': true }));
        endTurn(runId);
      }, OPEN_TURN_MS);
      timer.unref?.();
      void turn.closed.then(() => clearTimeout(timer));
      try {
        return await turn.run(async (span) => {
          const session = sessionOf(state.sessionId, runtime.configurable);
          await announce(options, session);
          // Messages of an earlier run already in the thread (a checkpointer) are not new input.
          const seen = new Set(state._agentSessionsSeen ?? []);
          const input = state.messages.filter((m) => m.id === undefined || !seen.has(m.id));
          const history = await loadTurnHistory(options, session);
          span.set({ [ATTR.runCount]: history.runs?.length, 'agent_sessions.window.items': history.messages.length, 'agent_sessions.window.dropped': history.dropped });
          const historyIds = new Set(idsOf(history.messages));
          const fresh = input.filter((m) => m.id === undefined || !historyIds.has(m.id));
          return {
            messages: [new RemoveMessage({ id: REMOVE_ALL_MESSAGES }), ...history.messages, ...fresh],
            sessionId: session.sessionId,
            _agentSessionsHistory: [...historyIds],
            _agentSessionsSeen: [...historyIds, ...idsOf(fresh)],
            _agentSessionsRunId: runId,
            _agentSessionsLastSeq: history.session?.lastSeq ?? 0,
          };
        });
      } catch (err) {
        endTurn(runId, err);
        throw err;
      }
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
        await inTurn(state._agentSessionsRunId, () => saveFailure(options, session, added, err, 'failed', runId));
        endTurn(state._agentSessionsRunId, err);
        throw err;
      }
    },
    afterAgent: async (state, runtime) => {
      const session = sessionOf(state.sessionId, runtime.configurable);
      const history = new Set(state._agentSessionsHistory ?? []);
      const added = state.messages.filter((m) => m.id === undefined || !history.has(m.id));
      try {
        await inTurn(state._agentSessionsRunId, async (span) =>
          noteStored(
            span,
            await saveRun(options, session, {
              messages: added,
              end: 'completed',
              runId: state._agentSessionsRunId,
              expectedLastSeq: options.staleHistory === 'reject' ? (state._agentSessionsLastSeq ?? 0) : undefined,
            }),
          ),
        );
      } catch (err) {
        endTurn(state._agentSessionsRunId, err);
        throw err;
      }
      endTurn(state._agentSessionsRunId);
      return { _agentSessionsSeen: idsOf(state.messages), _agentSessionsHistory: [] };
    },
  });
}
