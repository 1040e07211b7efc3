import { createHash } from 'node:crypto';
import {
  AgentSessionsError,
  applyWindow,
  loadHistory,
  runPages,
  type JsonObject,
  type JsonValue,
  type LoadedWindow,
  type Run,
  type SessionRef,
  type SessionStore,
  type WindowOptions,
} from '@agent-sessions/core/adapter';
import type { AgentInputItem } from '@openai/agents';
import { fromStoredItems, openAIAgentsCodec, toStoredItems } from './codec.js';

/**
 * The session's logical history (what the SDK's runner reconciles against) is an append-only
 * log of runs, so every change is one atomic `appendRun`:
 *
 * - a run's items are appended to the history;
 * - a run whose `metadata[HISTORY_KEY].replaces` is k first drops the last k items of the
 *   history before it (a suffix replacement, a history mutation, a pop that would otherwise
 *   undo one of these);
 * - a `compaction` item is the replay boundary, as the SDK treats it: nothing before the latest
 *   one is part of the history (older runs stay stored, for the record).
 */
export const HISTORY_KEY = 'openaiAgentsHistory';
const SOURCE = 'openai-agents';

export interface HistoryMarker {
  /** How many items of the history before this run it replaces. */
  replaces?: number;
  /** The SDK's operation id of the transaction this run applied, and a digest of the transaction. */
  operationId?: string;
  digest?: string;
}

export function markerOf(run: Run): HistoryMarker | undefined {
  const m = run.metadata?.[HISTORY_KEY];
  return typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as HistoryMarker) : undefined;
}

function isCompaction(item: JsonValue): boolean {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && item.type === 'compaction';
}

/** The logical history of runs given oldest first (a window's runs, or a session's). */
export function foldRuns(runs: readonly Run[]): JsonValue[] {
  return foldBackwards([...runs].reverse(), Number.POSITIVE_INFINITY).items;
}

/**
 * The model's window, read with the session's header in one `readHistory`: core's window over
 * the runs, then each change of history in them applied (a suffix a transaction, a mutation or
 * a pop replaced; a compaction boundary), then the window's limits and repair again over what
 * is left. Both the native Session and the wrapper read it, so a session rewritten through one
 * shows the same history through the other.
 */
export async function loadModelWindow(store: SessionStore, ref: SessionRef, window: WindowOptions<AgentInputItem>): Promise<LoadedWindow<AgentInputItem>> {
  const loaded = await loadHistory(store, ref, openAIAgentsCodec, window);
  const last = loaded.runs[loaded.runs.length - 1];
  // Plain runs: the window is already right (no second pass on the hot path).
  if (!last || !loaded.runs.some(rewrites)) return loaded;
  const items = fromStoredItems(foldRuns(loaded.runs));
  const folded = { ...last, status: 'completed' as const, items: items as unknown as JsonValue[] };
  const cut = applyWindow([folded], openAIAgentsCodec, { ...window, lastRuns: 1 }, loaded.session);
  return { ...cut, runs: loaded.runs, session: loaded.session };
}

/** True for a run that changes the history before it or starts it again (a marker, a compaction item). */
function rewrites(run: Run): boolean {
  return (markerOf(run)?.replaces ?? 0) > 0 || run.items.some(isCompaction);
}

interface Folded {
  items: JsonValue[];
  /** True when the fold reached the start of the history (a compaction boundary or the first run). */
  complete: boolean;
}

// Newest run first: a run's `replaces` hides items of the runs before it, so walking back we
// carry how many items are still to hide.
function foldBackwards(runsNewestFirst: Iterable<Run>, want: number, state = { hide: 0, out: [] as JsonValue[][], count: 0 }): Folded & { stopped: boolean } {
  for (const run of runsNewestFirst) {
    let items = run.items;
    const boundary = lastIndex(items, isCompaction);
    if (boundary >= 0) items = items.slice(boundary);
    const hidden = Math.min(state.hide, items.length);
    state.hide -= hidden;
    const visible = items.slice(0, items.length - hidden);
    state.out.unshift(visible);
    state.count += visible.length;
    state.hide += markerOf(run)?.replaces ?? 0;
    if (boundary >= 0 || state.count >= want) {
      return { items: state.out.flat(), complete: boundary >= 0, stopped: true };
    }
  }
  return { items: state.out.flat(), complete: true, stopped: false };
}

function lastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i] as T)) return i;
  return -1;
}

/** A session's logical history, read newest first in bounded pages back to its start or latest compaction. */
export interface HistoryView {
  items: JsonValue[];
  /** Every run read (newest first): a transaction's run id is looked for among them. */
  runs: Run[];
  /** The session's lastSeq when read (0: absent), for `expectedLastSeq`. */
  lastSeq: number;
}

export async function readView(store: SessionStore, ref: SessionRef, want = Number.POSITIVE_INFINITY): Promise<HistoryView> {
  const runs: Run[] = [];
  const state = { hide: 0, out: [] as JsonValue[][], count: 0 };
  let lastSeq = 0;
  let items: JsonValue[] = [];
  for await (const page of runPages(store, ref, { order: 'desc', pageSize: 20, grow: true })) {
    if (runs.length === 0) lastSeq = page[0]?.seq ?? 0;
    runs.push(...page);
    const folded = foldBackwards(page, want, state);
    items = folded.items;
    if (folded.stopped) break;
  }
  return { items, runs, lastSeq };
}

/** A run id derived from the SDK's operation id: a retry of the operation is the same run. */
export function operationRunId(operationId: string): string {
  return `hist_${createHash('sha256').update(operationId).digest('base64url').slice(0, 32)}`;
}

/** A digest of a transaction's canonical JSON (keys sorted), to tell a retry from a reuse. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonical(toStoredItems([value as AgentInputItem])[0])).digest('base64url');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sameItems(a: readonly JsonValue[], b: readonly JsonValue[]): boolean {
  return a.length === b.length && a.every((item, i) => canonical(item) === canonical(b[i]));
}

/** The SDK's `replace_function_call` mutation (agents-core applySessionHistoryMutations): the first call kept, replaced; later copies dropped. */
export function applyMutations(items: readonly JsonValue[], mutations: readonly { type: string; callId: string; replacement: unknown }[]): JsonValue[] {
  let next = [...items];
  for (const mutation of mutations) {
    if (mutation.type !== 'replace_function_call') {
      throw new AgentSessionsError('invalid_input', `unsupported session history mutation '${String(mutation.type)}'`, { source: SOURCE });
    }
    const replacement = toStoredItems([mutation.replacement as AgentInputItem])[0]!;
    const out: JsonValue[] = [];
    let kept = false;
    for (const item of next) {
      const rec = typeof item === 'object' && item !== null && !Array.isArray(item) ? item : undefined;
      if (rec?.type === 'function_call' && rec.callId === mutation.callId) {
        if (!kept) out.push(replacement);
        kept = true;
        continue;
      }
      out.push(item);
    }
    next = out;
  }
  return next;
}

/**
 * The run that turns history `from` into `to` with one append: it replaces the items after
 * their common prefix. A run holds at least one item, so when `to` only loses items the run
 * restates the last item they still share. Null when nothing changes; `{ clear: true }` when
 * `to` is empty (no run can say that: the session is deleted instead).
 */
export function rewriteRun(from: readonly JsonValue[], to: readonly JsonValue[]): { replaces: number; items: JsonValue[] } | { clear: true } | null {
  let p = 0;
  while (p < from.length && p < to.length && canonical(from[p]) === canonical(to[p])) p++;
  if (p === from.length && p === to.length) return null;
  if (to.length === 0) return { clear: true };
  const start = p < to.length ? p : to.length - 1;
  return { replaces: from.length - start, items: to.slice(start) };
}

export function markerMetadata(marker: HistoryMarker): JsonObject {
  return { [HISTORY_KEY]: { ...marker } as JsonObject };
}

export function asItems(items: readonly JsonValue[]): AgentInputItem[] {
  return structuredClone(fromStoredItems(items));
}
