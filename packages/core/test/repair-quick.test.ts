import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemInfo } from '../src/window/codec.js';
import { repairSlow, repairWithInfos } from '../src/window/repair.js';

// What a codec may say of an item, over a handful of ids so that repeats, reuse and
// self-answers are common: the one-pass check must send every such case to the general path.
const id = fc.constantFrom('a', 'b', 'c', 'd');
const info: fc.Arbitrary<ItemInfo> = fc.oneof(
  fc.constant({}),
  fc.record({ callIds: fc.array(id, { maxLength: 3 }) }),
  fc.record({ resultFor: id }),
  fc.constant({ reasoning: true }),
  fc.record({ callIds: fc.array(id, { minLength: 1, maxLength: 2 }), resultFor: id }),
  fc.record({ reasoning: fc.constant(true), callIds: fc.array(id, { minLength: 1, maxLength: 2 }) }),
);
// Well-formed turns too (call, then its result), so the quick path is taken often.
// Some reuse a call id of an earlier turn (a framework that numbers calls per turn).
const turn = fc.tuple(fc.nat({ max: 2 }), fc.boolean(), fc.boolean()).map(([calls, reasoning, reuse]) => {
  const out: ItemInfo[] = [{}];
  for (let c = 0; c < calls; c++) {
    const callId = reuse ? `call_${c}` : `t${Math.random().toString(36).slice(2, 8)}`;
    if (reasoning) out.push({ reasoning: true });
    out.push({ callIds: [callId] }, { resultFor: callId });
  }
  out.push({});
  return out;
});

describe('repair: the one-pass check for a slice that needs nothing', () => {
  it('keeps exactly what the general repair keeps, for any sequence', () => {
    const seq = fc.oneof(fc.array(info, { maxLength: 14 }), fc.array(turn, { maxLength: 6 }).map((t) => t.flat()));
    fc.assert(
      fc.property(seq, (infos) => {
        const items = infos.map((_, i) => i);
        expect(repairWithInfos(items, infos)).toEqual(repairSlow(items, infos));
      }),
      { numRuns: 20_000 },
    );
  });

  it('cases the one pass must not keep whole', () => {
    const cases: ItemInfo[][] = [
      [{ callIds: ['a'] }], // unanswered
      [{ resultFor: 'a' }], // no call
      [{ resultFor: 'a' }, { callIds: ['a'] }], // answered before it was made
      [{ callIds: ['a'], resultFor: 'a' }], // answers itself
      [{ callIds: ['a'] }, { resultFor: 'a' }, { resultFor: 'a' }], // answered twice
      [{ callIds: ['a'] }, { resultFor: 'a' }, { callIds: ['a'] }, { resultFor: 'a' }], // id used twice
      [{ callIds: ['a'] }, { resultFor: 'a' }, { reasoning: true }], // reasoning last
    ];
    for (const infos of cases) {
      const items = infos.map((_, i) => i);
      const got = repairWithInfos(items, infos);
      expect(got).toEqual(repairSlow(items, infos));
      expect(got.items.length).toBeLessThan(items.length);
    }
  });

  it('a long slice (past the one-pass bound) is repaired the same way', () => {
    const infos: ItemInfo[] = [];
    for (let i = 0; i < 200; i++) infos.push({ callIds: [`c${i}`] }, { resultFor: `c${i}` });
    infos.push({ callIds: ['dangling'] });
    const items = infos.map((_, i) => i);
    const got = repairWithInfos(items, infos);
    expect(got.items).toHaveLength(400);
    expect(got).toEqual(repairSlow(items, infos));
  });
});
