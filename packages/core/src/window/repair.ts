import type { ItemCodec, ItemInfo } from './codec.js';

/**
 * Makes a slice of history valid to send to a model. Providers reject a tool result whose call
 * is missing, a tool call with no result, and a reasoning item without the item after it, so:
 * - a call item is kept only if every call it makes has a result later in the slice;
 * - a result is kept only if its call item was kept earlier in the slice;
 * - a reasoning item is kept only if the item right after it is kept.
 * Only whole items are dropped, never changed, and relative order is kept.
 */
export function repairItems<Item>(items: readonly Item[], codec: ItemCodec<Item>): Item[] {
  return repairWithInfos(items, items.map((item) => codec.inspect(item))).items;
}

/**
 * `repairItems` with what the codec said of each item already in hand (`infos[i]` for
 * `items[i]`): the items kept, and their infos.
 */
export function repairWithInfos<Item>(items: readonly Item[], infos: readonly ItemInfo[]): { items: Item[]; infos: ItemInfo[] } {
  if (keepsAll(infos)) return { items: items.slice(), infos: infos.slice() };
  return repairSlow(items, infos);
}

/** Longest slice `keepsAll` checks; a longer one takes the general path (its scans are linear). */
const QUICK_MAX = 256;

/**
 * True when repair would keep every item: each result answers the one open call of its id made
 * before it, every call is answered, no id is used twice, and no reasoning item comes last.
 * What a window usually is, checked in one pass without maps; anything else (including every
 * case this is unsure of) goes to the general path, which decides.
 */
function keepsAll(infos: readonly ItemInfo[]): boolean {
  const n = infos.length;
  if (n > QUICK_MAX) return false;
  const open: string[] = [];
  const used: string[] = [];
  for (let i = 0; i < n; i++) {
    const info = infos[i] as ItemInfo;
    // The result before the calls: an item answering a call of its own is not kept.
    const r = info.resultFor;
    if (r !== undefined) {
      const at = open.indexOf(r);
      if (at < 0) return false;
      open.splice(at, 1);
    }
    const ids = info.callIds;
    if (ids !== undefined) {
      for (const id of ids) {
        if (used.includes(id)) return false;
        used.push(id);
        open.push(id);
      }
    }
    if (info.reasoning && i === n - 1) return false;
  }
  return open.length === 0;
}

/** The general repair (exported for the test that checks the one-pass check against it). */
export function repairSlow<Item>(items: readonly Item[], infos: readonly ItemInfo[]): { items: Item[]; infos: ItemInfo[] } {
  const n = items.length;
  const keep = new Array<boolean>(n).fill(true);

  // A call is answered only by a result after it: the last result for each id is the one to test.
  const answeredAfter = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = (infos[i] as ItemInfo).resultFor;
    if (r !== undefined) answeredAfter.set(r, i);
  }
  const callIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const ids = (infos[i] as ItemInfo).callIds;
    if (ids === undefined || ids.length === 0) continue;
    let complete = true;
    for (const id of ids) {
      const r = answeredAfter.get(id);
      if (r === undefined || r <= i) {
        complete = false;
        break;
      }
    }
    if (!complete) keep[i] = false;
    else for (const id of ids) if (!callIndex.has(id)) callIndex.set(id, i);
  }
  // Results whose call was dropped, is absent, or comes later; and repeated results for one call.
  const resultSeen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = (infos[i] as ItemInfo).resultFor;
    if (r === undefined) continue;
    const c = callIndex.get(r);
    if (c === undefined || c > i || !keep[c] || resultSeen.has(r)) keep[i] = false;
    else resultSeen.add(r);
  }
  // Reasoning lives or dies with the item right after it.
  for (let i = n - 1; i >= 0; i--) {
    if (!infos[i]?.reasoning) continue;
    if (i === n - 1 || !keep[i + 1]) keep[i] = false;
  }
  const kept: Item[] = [];
  const keptInfos: ItemInfo[] = [];
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    kept.push(items[i] as Item);
    keptInfos.push(infos[i] as ItemInfo);
  }
  return { items: kept, infos: keptInfos };
}

/** True when `items` has no orphan result, no dangling call and no stray reasoning item. */
export function isWellFormed<Item>(items: readonly Item[], codec: ItemCodec<Item>): boolean {
  return repairItems(items, codec).length === items.length;
}
