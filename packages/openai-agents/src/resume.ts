import { AgentSessionsError, type JsonValue, type Run, type SessionRef, type SessionStore } from '@agent-sessions/core/adapter';
import type { RunToolApprovalItem } from '@openai/agents';

export const SOURCE = 'openai-agents';
/** How many recent runs a resume searches for the interrupted run a RunState came from. */
export const RESUME_SEARCH_RUNS = 20;

/** What the wrapper knows about a RunState it saw interrupted: where its turn is stored. */
export interface PendingTurn {
  agentId: string;
  sessionId: string;
  userId: string | undefined;
  runId: string;
  items: JsonValue[];
}

// Keyed by RunState: a state this process saw interrupted (or loaded) resumes into its own turn.
const PENDING = new WeakMap<object, PendingTurn>();

export function rememberPending(state: object, pending: PendingTurn): void {
  PENDING.set(state, pending);
}

/** The session's newest run if it waits for approvals; a failed attempt to resume it does not settle it. */
export function newestInterrupted(runs: readonly Run[]): Run | undefined {
  const newest = [...runs].reverse().find((r) => !(r.status === 'failed' && r.metadata?.resumedFrom !== undefined));
  return newest?.status === 'interrupted' && typeof newest.metadata?.runState === 'string' ? newest : undefined;
}

/** The stored interrupted turn a RunState resumes: known to this process, or found by its pending call ids. */
export async function findPendingTurn(
  store: SessionStore,
  agentId: string,
  state: object,
  sessionId: string | undefined,
  userId: string | undefined,
): Promise<PendingTurn> {
  const known = PENDING.get(state);
  if (known && known.agentId === agentId) {
    if (sessionId !== undefined && sessionId !== known.sessionId) {
      throw new AgentSessionsError('invalid_input', `this RunState was interrupted in session '${known.sessionId}', not '${sessionId}'`, {
        source: SOURCE,
      });
    }
    return known;
  }
  if (sessionId === undefined) {
    throw new AgentSessionsError('invalid_input', 'name the sessionId of the interrupted run this RunState resumes', {
      source: SOURCE,
    });
  }
  const ref: SessionRef = { agentId, sessionId, userId };
  const keys = interruptionKeys(state);
  const runs = await store.listRuns({ ...ref, limit: RESUME_SEARCH_RUNS });
  const match = [...runs].reverse().find((r) => r.status === 'interrupted' && samePending(r, keys));
  if (!match) {
    throw new AgentSessionsError('not_found', `no interrupted run in session '${sessionId}' matches this RunState's pending approvals`, {
      source: SOURCE,
    });
  }
  const pending: PendingTurn = { agentId, sessionId, userId, runId: match.runId, items: match.items };
  PENDING.set(state, pending);
  return pending;
}

export function approvalKey(item: RunToolApprovalItem): string | undefined {
  const raw = item.rawItem as unknown as Record<string, unknown>;
  const provider = raw.providerData as Record<string, unknown> | undefined;
  for (const v of [raw.callId, raw.id, provider?.id]) if (typeof v === 'string' && v.length > 0) return v;
  return undefined;
}

function interruptionKeys(state: object): string[] {
  const get = (state as { getInterruptions?: () => RunToolApprovalItem[] }).getInterruptions;
  if (typeof get !== 'function') {
    throw new AgentSessionsError('invalid_input', 'expected a string, an item list or a RunState as input', { source: SOURCE });
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
