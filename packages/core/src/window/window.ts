import { invalidInput } from '../errors.js';
import type { SessionStore } from '../session-store.js';
import type { Run, RunStatus, SessionHeader, SessionRef } from '../types.js';
import type { ItemCodec, ItemInfo } from './codec.js';
import { repairItems, repairWithInfos } from './repair.js';
import { estimateTokens, type TokenCounter } from './tokens.js';

/** Which history the model sees. Every limit applies after the runs are chosen. */
export interface WindowOptions<Item = unknown> {
  /** How many of the latest eligible runs to load. Default 10. At most 1000. */
  lastRuns?: number | undefined;
  /** At most this many history items (the prefix is not counted). Default: no limit. */
  maxItems?: number | undefined;
  /** At most this many tokens, prefix included, by `tokenCounter`. Default: no limit. */
  maxTokens?: number | undefined;
  /** Counts an item's tokens. Default: `estimateTokens` (about 4 characters a token). */
  tokenCounter?: TokenCounter<Item> | undefined;
  /** Keep only the latest N tool calls (and their results) from history. Default: no cap. */
  maxToolCallsFromHistory?: number | undefined;
  /** Also include failed and interrupted runs. Default: false (only completed runs). */
  includeFailed?: boolean | undefined;
  /**
   * Items always placed first and never cut: a system prompt, a summary. A function gets the
   * session's header as this caller sees it (null for a new session), read with the window in
   * the same round trip, so `session.summary`, `metadata` and `state` can shape the prefix.
   */
  prefix?: readonly Item[] | ((session: SessionHeader | null) => readonly Item[]) | undefined;
}

export const DEFAULT_LAST_RUNS = 10;
/** How many pages `loadHistory` reads at most to find enough eligible runs (each page twice the last). */
export const MAX_WINDOW_PAGES = 4;

export interface WindowResult<Item> {
  /** What to hand the model: prefix, then history, oldest first. */
  items: Item[];
  /** The runs the history came from, oldest first. */
  runs: Run[];
  /** History items left out by the limits or by repair. */
  dropped: number;
}

/** A window read from a store, with the session's header read in the same round trip. */
export interface LoadedWindow<Item> extends WindowResult<Item> {
  /** The session as this caller sees it: null when absent, expired or another user's. */
  session: SessionHeader | null;
}

function checkCount(value: number | undefined, what: string, min: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) throw invalidInput(`window.${what} must be a whole number ≥ ${min}`);
}

export function validateWindow<Item>(options: WindowOptions<Item>): void {
  checkCount(options.lastRuns, 'lastRuns', 0);
  if (options.lastRuns !== undefined && options.lastRuns > 1000) throw invalidInput('window.lastRuns is at most 1000');
  checkCount(options.maxItems, 'maxItems', 0);
  checkCount(options.maxTokens, 'maxTokens', 0);
  checkCount(options.maxToolCallsFromHistory, 'maxToolCallsFromHistory', 0);
}

/**
 * Builds the model's view from runs already read: takes the latest `lastRuns` eligible runs,
 * caps tool calls, cuts by items and tokens from the oldest end, then repairs the cut so no
 * call is split from its result. Pure: the same input gives the same output.
 */
export function applyWindow<Item>(
  runs: readonly Run[],
  codec: ItemCodec<Item>,
  options: WindowOptions<Item> = {},
  session: SessionHeader | Pick<SessionHeader, 'summary'> | null = null,
): WindowResult<Item> {
  validateWindow(options);
  const lastRuns = options.lastRuns ?? DEFAULT_LAST_RUNS;
  const includeFailed = Boolean(options.includeFailed);
  const chosen = lastRuns === 0 ? [] : runs.filter((r) => isEligible(r.status, includeFailed)).slice(-lastRuns);
  return windowOf(chosen, codec, options, session);
}

/** Whether a run of this status may be in the window. */
function isEligible(status: RunStatus, includeFailed: boolean): boolean {
  return status === 'completed' || (includeFailed && (status === 'failed' || status === 'interrupted'));
}

/** `applyWindow` after the runs are chosen (and the options checked). */
function windowOf<Item>(
  chosen: Run[],
  codec: ItemCodec<Item>,
  options: WindowOptions<Item>,
  session: SessionHeader | Pick<SessionHeader, 'summary'> | null,
): WindowResult<Item> {
  // Instructions are the caller's to send each turn; one stored by an older version is not replayed.
  // Each item is inspected once here; repair reuses what the codec said.
  let items: Item[] = [];
  let infos: ItemInfo[] = [];
  for (const run of chosen) {
    for (const item of run.items as unknown as Item[]) {
      const info = codec.inspect(item);
      if (info.instruction) continue;
      items.push(item);
      infos.push(info);
    }
  }
  const total = items.length;

  if (options.maxToolCallsFromHistory !== undefined) {
    let calls = 0;
    const keep = new Array<boolean>(items.length).fill(true);
    for (let i = items.length - 1; i >= 0; i--) {
      const n = (infos[i] as ItemInfo).callIds?.length ?? 0;
      if (n === 0) continue;
      if (calls + n > options.maxToolCallsFromHistory) keep[i] = false;
      else calls += n;
    }
    items = items.filter((_, i) => keep[i]);
    infos = infos.filter((_, i) => keep[i]);
  }
  // Repair first so the cuts below only ever see whole pairs, then again after each cut.
  const repaired = repairWithInfos(items, infos);
  items = repaired.items;
  infos = repaired.infos;
  if (options.maxItems !== undefined && items.length > options.maxItems) {
    items = repairItems(options.maxItems === 0 ? [] : items.slice(-options.maxItems), codec);
  }
  const prefixOpt = options.prefix;
  const prefix = [...(typeof prefixOpt === 'function' ? prefixOpt(session as SessionHeader | null) : (prefixOpt ?? []))];
  if (options.maxTokens !== undefined) {
    const count = options.tokenCounter ?? (estimateTokens as TokenCounter<Item>);
    let budget = options.maxTokens - prefix.reduce((sum, it) => sum + count(it), 0);
    let start = items.length;
    while (start > 0) {
      const cost = count(items[start - 1] as Item);
      if (cost > budget) break;
      budget -= cost;
      start -= 1;
    }
    if (start > 0) items = repairItems(items.slice(start), codec);
  }
  return { items: prefix.length === 0 ? items : [...prefix, ...items], runs: chosen, dropped: total - items.length };
}

/**
 * Reads the window from a store with the session's header (`readHistory`: one round trip on a
 * server store), so `prefix(session)` sees the real summary and the caller can authorise the
 * turn without another read. Only when failed or interrupted runs must be skipped does it read a
 * few more pages back. The cost depends on the window, never on how long the session is.
 */
export async function loadHistory<Item>(
  store: SessionStore,
  ref: SessionRef,
  codec: ItemCodec<Item>,
  options: WindowOptions<Item> = {},
): Promise<LoadedWindow<Item>> {
  validateWindow(options);
  const lastRuns = options.lastRuns ?? DEFAULT_LAST_RUNS;
  const includeFailed = Boolean(options.includeFailed);
  const { agentId, sessionId, userId } = ref;
  // Even an empty window reads the header: the prefix and the caller's checks need it.
  const first = await store.readHistory({ agentId, sessionId, userId, limit: Math.max(lastRuns, 1) });
  const session = first.session;
  if (lastRuns === 0 || !session) return loaded(windowOf([], codec, options, session), session);
  // Usually every run read is eligible: then the page itself is the window, not a copy of it.
  let picked = first.runs.every((r) => isEligible(r.status, includeFailed)) ? first.runs : first.runs.filter((r) => isEligible(r.status, includeFailed));
  if (picked.length > lastRuns) picked = picked.slice(-lastRuns);
  const oldest = first.runs[0];
  if (picked.length < lastRuns && first.runs.length === lastRuns && oldest && oldest.seq > 1) {
    // Each page back is twice the last: a long stretch of failed runs costs a few reads, not many.
    let beforeSeq = oldest.seq;
    let size = lastRuns;
    for (let page = 1; page < MAX_WINDOW_PAGES && picked.length < lastRuns; page++) {
      size = Math.min(size * 2, 1000);
      const runs = await store.listRuns({ agentId, sessionId, userId, limit: size, beforeSeq });
      picked = [...runs.filter((r) => isEligible(r.status, includeFailed)).slice(-(lastRuns - picked.length)), ...picked];
      const first = runs[0];
      if (runs.length < size || !first || first.seq <= 1) break;
      beforeSeq = first.seq;
    }
  }
  return loaded(windowOf(picked, codec, options, session), session);
}

function loaded<Item>(w: WindowResult<Item>, session: SessionHeader | null): LoadedWindow<Item> {
  return { items: w.items, runs: w.runs, dropped: w.dropped, session };
}

export type { SessionHeader };
