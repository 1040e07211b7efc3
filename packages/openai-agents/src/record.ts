import { openAIItemText } from './transcript.js';
import {
  TURN_STATUS,
  storeTurn,
  storedInput,
  turnMetadata,
  type Duration,
  type JsonObject,
  type JsonValue,
  type SessionRef,
  type SessionStore,
  type TurnEnd, turnLabels, type AppendRunResult } from '@agent-sessions/core/adapter';
import type { AgentInputItem, RunResult, StreamedRunResult } from '@openai/agents';
import { OPENAI_AGENTS_FORMAT, openAIAgentsCodec, toStoredItems } from './codec.js';
import { SOURCE, approvalKey, rememberPending, type PendingTurn } from './resume.js';
import type { TurnSession } from './turn-session.js';

/** One wrapped run in progress: where it is stored and what it has collected. */
export interface TurnContext {
  store: SessionStore;
  agentId: string;
  ref: SessionRef;
  runId: string;
  /** The interrupted turn this run resumes. */
  prior: PendingTurn | undefined;
  turn: TurnSession;
  /** The new input of a fresh turn; undefined when resuming. */
  input: string | AgentInputItem[] | undefined;
  metadata: JsonObject | undefined;
  ttl: Duration | null | undefined;
  sessionMetadata: JsonObject | undefined;
  signal: AbortSignal | undefined;
  /** The lastSeq of the history the turn read, when stale history is refused. */
  expectedLastSeq: number | undefined;
}

type AnyResult = RunResult<any, any> | StreamedRunResult<any, any>;

/** The SDK's own reading of a string input: one user message. */
export function inputItems(input: string | AgentInputItem[] | undefined): AgentInputItem[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: input }];
  return input;
}

/** The turn's items: the interrupted turn's, then what the runner persisted, else the input (no instructions). */
function turnItems(ctx: TurnContext): JsonValue[] {
  const items = [...(ctx.prior?.items ?? []), ...ctx.turn.collected];
  if (!ctx.prior && ctx.turn.collected.length === 0) {
    items.push(...toStoredItems(storedInput(inputItems(ctx.input), openAIAgentsCodec)));
  }
  return items;
}

function append(ctx: TurnContext, end: TurnEnd, items: JsonValue[], metadata: JsonObject, usage: JsonObject | null, result: unknown) {
  return storeTurn(
    ctx.store,
    {
      ...ctx.ref,
      runId: ctx.runId,
      status: TURN_STATUS[end],
      format: OPENAI_AGENTS_FORMAT,
      items,
      usage,
      metadata,
      ttl: ctx.ttl,
      sessionMetadata: ctx.sessionMetadata,
      expectedLastSeq: ctx.expectedLastSeq,
      // The session list's title (first user text) and preview (latest message).
      ...turnLabels(items, openAIItemText),
    },
    result,
    SOURCE,
  );
}

/**
 * Stores a finished run: `completed`, `interrupted` with what a later process needs to resume
 * it, or `cancelled` / `aborted` for a streamed run stopped before its end. A store failure
 * throws TurnNotStoredError carrying `result`.
 */
export async function persistTurn(ctx: TurnContext, result: AnyResult): Promise<AppendRunResult | undefined> {
  const interruptions = result.interruptions ?? [];
  const stopped = 'cancelled' in result && result.cancelled === true;
  const end: TurnEnd = stopped ? (ctx.signal?.aborted ? 'aborted' : 'cancelled') : interruptions.length > 0 ? 'interrupted' : 'completed';
  const extra: JsonObject = {};
  if (ctx.prior) extra.resumedFrom = ctx.prior.runId;
  if (end === 'interrupted') {
    extra.runState = result.state.toString();
    extra.pendingCallIds = interruptions.map(approvalKey).filter((k): k is string => k !== undefined);
  }
  const items = turnItems(ctx);
  if (items.length === 0) return undefined;
  const stored = await append(ctx, end, items, turnMetadata(end, { metadata: ctx.metadata, extra }), usageOf(result), result);
  if (end === 'interrupted') {
    rememberPending(result.state, {
      agentId: ctx.agentId,
      sessionId: ctx.ref.sessionId,
      userId: ctx.ref.userId,
      runId: ctx.runId,
      items,
    });
  }
  return stored;
}

/**
 * Keeps a run that threw with its input (and whatever the runner had persisted): `failed`, or
 * `aborted` when the caller's signal stopped it. A store that cannot record it is most likely
 * the same failure: the run's own error is what the caller sees.
 */
export async function recordFailure(ctx: TurnContext, err: unknown): Promise<void> {
  const items = turnItems(ctx);
  if (items.length === 0) return;
  const end: TurnEnd = ctx.signal?.aborted ? 'aborted' : 'failed';
  const extra: JsonObject = ctx.prior ? { resumedFrom: ctx.prior.runId } : {};
  try {
    await append(ctx, end, items, turnMetadata(end, { metadata: ctx.metadata, error: err, extra }), null, undefined);
  } catch {
    // Deliberately ignored: see above.
  }
}

function usageOf(result: AnyResult): JsonObject | null {
  const usage = result.state?.usage;
  if (!usage) return null;
  const out: JsonObject = {};
  for (const k of ['requests', 'inputTokens', 'outputTokens', 'totalTokens'] as const) {
    const v = usage[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}
