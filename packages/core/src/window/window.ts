import { invalidInput } from '../errors.js';
import { runPages } from '../runs.js';
import type { SessionStore } from '../session-store.js';
import type { Run, RunStatus, SessionHeader, SessionRef } from '../types.js';
import type { ItemCodec } from './codec.js';
import { repairItems } from './repair.js';
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
  /** Items always placed first and never cut: a system prompt, a summary. */
  prefix?: readonly Item[] | ((session: { summary: string | null } | null) => readonly Item[]) | undefined;
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

function eligibleStatuses(options: WindowOptions<unknown>): ReadonlySet<RunStatus> {
  return new Set<RunStatus>(options.includeFailed ? ['completed', 'failed', 'interrupted'] : ['completed']);
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
  session: { summary: string | null } | null = null,
): WindowResult<Item> {
  validateWindow(options);
  const statuses = eligibleStatuses(options as WindowOptions<unknown>);
  const lastRuns = options.lastRuns ?? DEFAULT_LAST_RUNS;
  const chosen = lastRuns === 0 ? [] : runs.filter((r) => statuses.has(r.status)).slice(-lastRuns);
  // Instructions are the caller's to send each turn; one stored by an older version is not replayed.
  let items = chosen.flatMap((r) => r.items as unknown as Item[]).filter((item) => !codec.inspect(item).instruction);
  const total = items.length;

  if (options.maxToolCallsFromHistory !== undefined) {
    let calls = 0;
    const keep = new Array<boolean>(items.length).fill(true);
    for (let i = items.length - 1; i >= 0; i--) {
      const n = codec.inspect(items[i] as Item).callIds?.length ?? 0;
      if (n === 0) continue;
      if (calls + n > options.maxToolCallsFromHistory) keep[i] = false;
      else calls += n;
    }
    items = items.filter((_, i) => keep[i]);
  }
  // Repair first so the cuts below only ever see whole pairs, then again after each cut.
  items = repairItems(items, codec);
  if (options.maxItems !== undefined && items.length > options.maxItems) {
    items = repairItems(options.maxItems === 0 ? [] : items.slice(-options.maxItems), codec);
  }
  const prefixOpt = options.prefix;
  const prefix = [...(typeof prefixOpt === 'function' ? prefixOpt(session) : (prefixOpt ?? []))];
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
  return { items: [...prefix, ...items], runs: chosen, dropped: total - items.length };
}

/**
 * Reads the window from a store: one indexed range read of the latest `lastRuns` runs in the
 * common case, a few more pages back only when failed or interrupted runs must be skipped.
 * The cost depends on the window, never on how long the session is.
 */
export async function loadHistory<Item>(
  store: SessionStore,
  ref: SessionRef,
  codec: ItemCodec<Item>,
  options: WindowOptions<Item> = {},
  session: { summary: string | null } | null = null,
): Promise<WindowResult<Item>> {
  validateWindow(options);
  const lastRuns = options.lastRuns ?? DEFAULT_LAST_RUNS;
  if (lastRuns === 0) return applyWindow([], codec, options, session);
  const statuses = eligibleStatuses(options as WindowOptions<unknown>);
  let picked: Run[] = [];
  // Each page back is twice the last: a long stretch of failed runs costs a few reads, not many.
  for await (const page of runPages(store, ref, { order: 'desc', pageSize: lastRuns, grow: true, maxPages: MAX_WINDOW_PAGES })) {
    const eligible = page.filter((r) => statuses.has(r.status)).reverse();
    picked = [...eligible.slice(-(lastRuns - picked.length)), ...picked];
    if (picked.length >= lastRuns) break;
  }
  return applyWindow(picked, codec, { ...options, lastRuns }, session);
}

export type { SessionHeader };
