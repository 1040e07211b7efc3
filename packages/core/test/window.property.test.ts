import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Run } from '@agent-sessions/core';
import { applyWindow, estimateTokens, isWellFormed, repairItems, type ItemCodec } from '@agent-sessions/core/adapter';

// A tiny item language: messages, calls (one or two call ids), results and reasoning items.
type Item =
  | { t: 'msg'; text: string }
  | { t: 'call'; ids: string[] }
  | { t: 'result'; id: string }
  | { t: 'reasoning' };

const codec: ItemCodec<Item> = {
  format: 'test',
  inspect: (i) =>
    i.t === 'call' ? { callIds: i.ids } : i.t === 'result' ? { resultFor: i.id } : i.t === 'reasoning' ? { reasoning: true } : {},
};

/** Independent check: no orphan result, no dangling call, no stray reasoning. */
function hasNoOrphan(items: Item[]): boolean {
  const calledBefore = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as Item;
    if (it.t === 'call') {
      for (const id of it.ids) {
        if (!items.slice(i + 1).some((x) => x.t === 'result' && x.id === id)) return false;
        calledBefore.add(id);
      }
    }
    if (it.t === 'result' && !calledBefore.has(it.id)) return false;
    if (it.t === 'reasoning' && i === items.length - 1) return false;
  }
  return true;
}

// Histories as a real agent writes them: turns of reasoning, calls, their results, messages.
const turn = fc
  .tuple(fc.nat({ max: 2 }), fc.boolean(), fc.string({ maxLength: 20 }), fc.boolean())
  .map(([calls, reasoning, text, parallel]) => {
    const out: Item[] = [{ t: 'msg', text: `user ${text}` }];
    for (let c = 0; c < calls; c++) {
      const ids = parallel ? [`c${Math.random()}`, `c${Math.random()}`] : [`c${Math.random()}`];
      if (reasoning) out.push({ t: 'reasoning' });
      out.push({ t: 'call', ids });
      for (const id of ids) out.push({ t: 'result', id });
    }
    if (reasoning) out.push({ t: 'reasoning' });
    out.push({ t: 'msg', text: `assistant ${text}` });
    return out;
  });

// Damaged histories too: items dropped at random, to exercise repair on anything.
const runs = fc
  .array(fc.tuple(turn, fc.constantFrom('completed', 'completed', 'failed', 'interrupted'), fc.array(fc.nat(), { maxLength: 2 })), {
    maxLength: 25,
  })
  .map((turns) =>
    turns.map(([items, status, drop], i): Run => {
      const kept = items.filter((_, j) => !drop.includes(j) || items.length === 1);
      return { runId: `r${i}`, seq: i + 1, createdAt: 0, status: status as Run['status'], format: 'test', items: kept as never, usage: null, metadata: null };
    }),
  );

const windowOptions = fc.record(
  {
    lastRuns: fc.integer({ min: 0, max: 30 }),
    maxItems: fc.integer({ min: 0, max: 40 }),
    maxTokens: fc.integer({ min: 0, max: 400 }),
    maxToolCallsFromHistory: fc.integer({ min: 0, max: 6 }),
    includeFailed: fc.boolean(),
  },
  { requiredKeys: [] },
);

describe('history window properties', () => {
  it('for any history and any window, the output has no orphan and stays within the limits', () => {
    fc.assert(
      fc.property(runs, windowOptions, (history, opts) => {
        const w = applyWindow<Item>(history, codec, opts);
        expect(hasNoOrphan(w.items)).toBe(true);
        expect(isWellFormed(w.items, codec)).toBe(true);
        if (opts.maxItems !== undefined) expect(w.items.length).toBeLessThanOrEqual(opts.maxItems);
        if (opts.maxTokens !== undefined) {
          expect(w.items.reduce((n, i) => n + estimateTokens(i), 0)).toBeLessThanOrEqual(opts.maxTokens);
        }
        if (opts.maxToolCallsFromHistory !== undefined) {
          const calls = w.items.reduce((n, i) => n + (i.t === 'call' ? i.ids.length : 0), 0);
          expect(calls).toBeLessThanOrEqual(opts.maxToolCallsFromHistory);
        }
        const lastRuns = opts.lastRuns ?? 10;
        expect(w.runs.length).toBeLessThanOrEqual(lastRuns);
        if (!opts.includeFailed) expect(w.runs.every((r) => r.status === 'completed')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('the output is a subsequence of the chosen runs\' items, in order', () => {
    fc.assert(
      fc.property(runs, windowOptions, (history, opts) => {
        const w = applyWindow<Item>(history, codec, opts);
        const source = w.runs.flatMap((r) => r.items as unknown as Item[]);
        let j = 0;
        for (const item of w.items) {
          while (j < source.length && source[j] !== item) j++;
          expect(j).toBeLessThan(source.length);
          j++;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a well-formed history under no limit passes through untouched', () => {
    fc.assert(
      fc.property(fc.array(turn, { maxLength: 10 }), (turns) => {
        const history = turns.map((items, i): Run => ({ runId: `r${i}`, seq: i + 1, createdAt: 0, status: 'completed', format: 'test', items: items as never, usage: null, metadata: null }));
        const w = applyWindow<Item>(history, codec, { lastRuns: 1000 });
        expect(w.items).toEqual(turns.flat());
        expect(w.dropped).toBe(0);
      }),
    );
  });

  it('repair is idempotent', () => {
    fc.assert(
      fc.property(runs, (history) => {
        const items = history.flatMap((r) => r.items as unknown as Item[]);
        const once = repairItems(items, codec);
        expect(repairItems(once, codec)).toEqual(once);
      }),
    );
  });
});
