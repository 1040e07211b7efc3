import { describe, expect, it } from 'vitest';
import { type Run } from '@agent-sessions/core';
import { applyWindow, repairItems, type ItemCodec } from '@agent-sessions/core/adapter';

type Item = { id: string; call?: string[]; result?: string; reasoning?: true };
const codec: ItemCodec<Item> = {
  format: 'test',
  inspect: (i) => ({ callIds: i.call, resultFor: i.result, reasoning: i.reasoning }),
};
const run = (seq: number, items: Item[], status: Run['status'] = 'completed'): Run => ({
  runId: `r${seq}`,
  seq,
  createdAt: 0,
  status,
  format: 'test',
  items: items as never,
  usage: null,
  metadata: null,
});
const ids = (items: Item[]) => items.map((i) => i.id);

describe('repairItems', () => {
  it('drops a tool result whose call was cut off', () => {
    expect(ids(repairItems([{ id: 'r', result: 'c1' }, { id: 'm' }], codec))).toEqual(['m']);
  });

  it('drops a call with no result, and the reasoning item before it', () => {
    const items: Item[] = [{ id: 'u' }, { id: 'why', reasoning: true }, { id: 'c', call: ['c1'] }];
    expect(ids(repairItems(items, codec))).toEqual(['u']);
  });

  it('drops a call with two ids when one result is missing, and the other result with it', () => {
    const items: Item[] = [{ id: 'c', call: ['a', 'b'] }, { id: 'ra', result: 'a' }, { id: 'm' }];
    expect(ids(repairItems(items, codec))).toEqual(['m']);
  });

  it('drops a result that comes before its call', () => {
    const items: Item[] = [{ id: 'r', result: 'a' }, { id: 'c', call: ['a'] }, { id: 'r2', result: 'a' }];
    expect(ids(repairItems(items, codec))).toEqual(['c', 'r2']);
  });

  it('keeps whole pairs and reasoning followed by its item', () => {
    const items: Item[] = [{ id: 'why', reasoning: true }, { id: 'c', call: ['a'] }, { id: 'r', result: 'a' }, { id: 'm' }];
    expect(ids(repairItems(items, codec))).toEqual(['why', 'c', 'r', 'm']);
  });
});

describe('applyWindow', () => {
  const history = [
    run(1, [{ id: 'u1' }, { id: 'a1' }]),
    run(2, [{ id: 'u2' }, { id: 'c2', call: ['x'] }, { id: 'r2', result: 'x' }, { id: 'a2' }]),
    run(3, [{ id: 'u3' }, { id: 'a3' }], 'failed'),
    run(4, [{ id: 'u4' }, { id: 'a4' }]),
  ];

  it('defaults to the last 10 completed runs', () => {
    expect(ids(applyWindow(history, codec).items)).toEqual(['u1', 'a1', 'u2', 'c2', 'r2', 'a2', 'u4', 'a4']);
  });

  it('lastRuns counts completed runs only, unless includeFailed', () => {
    expect(ids(applyWindow(history, codec, { lastRuns: 1 }).items)).toEqual(['u4', 'a4']);
    expect(ids(applyWindow(history, codec, { lastRuns: 2, includeFailed: true }).items)).toEqual(['u3', 'a3', 'u4', 'a4']);
  });

  it('a maxItems cut that lands between a call and its result drops the orphan result', () => {
    const w = applyWindow(history, codec, { maxItems: 4 });
    expect(ids(w.items)).toEqual(['a2', 'u4', 'a4']);
    expect(w.dropped).toBe(5);
  });

  it('maxToolCallsFromHistory keeps only the latest calls with their results', () => {
    expect(ids(applyWindow(history, codec, { maxToolCallsFromHistory: 0 }).items)).toEqual(['u1', 'a1', 'u2', 'a2', 'u4', 'a4']);
  });

  it('the prefix is always kept and counts against maxTokens', () => {
    const w = applyWindow(history, codec, {
      prefix: [{ id: 'system' }],
      maxTokens: 30,
      tokenCounter: () => 10,
    });
    expect(ids(w.items)).toEqual(['system', 'u4', 'a4']);
  });

  it('a prefix function receives the session, for a summary', () => {
    const w = applyWindow(history, codec, { lastRuns: 1, prefix: (s) => [{ id: `summary:${s?.summary}` }] }, { summary: 'old stuff' });
    expect(ids(w.items)).toEqual(['summary:old stuff', 'u4', 'a4']);
  });

  it('rejects window options that are not whole numbers', () => {
    expect(() => applyWindow(history, codec, { lastRuns: -1 })).toThrow(/lastRuns/);
    expect(() => applyWindow(history, codec, { maxItems: 1.5 })).toThrow(/maxItems/);
  });
});
