import type { ItemCodec } from './codec.js';

/**
 * Makes a slice of history valid to send to a model. Providers reject a tool result whose call
 * is missing, a tool call with no result, and a reasoning item without the item after it, so:
 * - a call item is kept only if every call it makes has a result later in the slice;
 * - a result is kept only if its call item was kept earlier in the slice;
 * - a reasoning item is kept only if the item right after it is kept.
 * Only whole items are dropped, never changed, and relative order is kept.
 */
export function repairItems<Item>(items: readonly Item[], codec: ItemCodec<Item>): Item[] {
  const infos = items.map((item) => codec.inspect(item));
  const keep = new Array<boolean>(items.length).fill(true);

  // A call is answered only by a result after it: the last result for each id is the one to test.
  const answeredAfter = new Map<string, number>();
  infos.forEach((info, i) => {
    if (info.resultFor !== undefined) answeredAfter.set(info.resultFor, i);
  });
  const callIndex = new Map<string, number>();
  infos.forEach((info, i) => {
    const ids = info.callIds ?? [];
    if (ids.length === 0) return;
    const complete = ids.every((id) => {
      const r = answeredAfter.get(id);
      return r !== undefined && r > i;
    });
    if (!complete) keep[i] = false;
    else for (const id of ids) if (!callIndex.has(id)) callIndex.set(id, i);
  });
  // Results whose call was dropped, is absent, or comes later; and repeated results for one call.
  const resultSeen = new Set<string>();
  infos.forEach((info, i) => {
    if (info.resultFor === undefined) return;
    const c = callIndex.get(info.resultFor);
    if (c === undefined || c > i || !keep[c] || resultSeen.has(info.resultFor)) keep[i] = false;
    else resultSeen.add(info.resultFor);
  });
  // Reasoning lives or dies with the item right after it.
  for (let i = items.length - 1; i >= 0; i--) {
    if (!infos[i]?.reasoning) continue;
    if (i === items.length - 1 || !keep[i + 1]) keep[i] = false;
  }
  return items.filter((_, i) => keep[i]);
}

/** True when `items` has no orphan result, no dangling call and no stray reasoning item. */
export function isWellFormed<Item>(items: readonly Item[], codec: ItemCodec<Item>): boolean {
  return repairItems(items, codec).length === items.length;
}
