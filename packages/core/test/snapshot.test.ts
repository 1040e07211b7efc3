import { describe, expect, it } from 'vitest';
import { snapshotJson } from '@agent-sessions/core/adapter';

const messageOf = (value: unknown): string => {
  try {
    snapshotJson(value, 'items', 'memory');
  } catch (err) {
    return (err as Error).message.replace('[agent-sessions] [memory] ', '');
  }
  return 'accepted';
};

describe('snapshotJson', () => {
  it('names the exact path of what it refuses', () => {
    const cycle: Record<string, unknown> = { a: [1, { b: 2 }] };
    (cycle.a as [number, Record<string, unknown>])[1].self = cycle;
    let deep: unknown = 'leaf';
    for (let i = 0; i < 65; i++) deep = [deep];
    expect(messageOf([{ ok: 'x', output: { text: 'y\ud800' } }])).toBe('items[0].output.text contains a lone surrogate');
    expect(messageOf([{ ok: 'x' }, { ['k\u0000']: 1 }])).toBe('items[1] key contains a NUL character');
    expect(messageOf([{ list: [1, undefined] }])).toBe('items[0].list[1] is undefined; arrays must hold JSON values');
    expect(messageOf([cycle])).toBe('items[0].a[1].self contains a cycle');
    expect(messageOf([{ at: new Date(0) }])).toBe('items[0].at is a Date, not a plain object');
    expect(messageOf([{ n: 10n }])).toBe('items[0].n is a BigInt, which JSON cannot hold');
    expect(messageOf([{ n: Number.NaN }])).toBe('items[0].n is NaN, which JSON cannot hold');
    expect(messageOf([{ [Symbol('s')]: 1 }])).toBe('items[0] has symbol keys');
    expect(messageOf(deep)).toBe(`items${'[0]'.repeat(65)} is nested deeper than 64 levels`);
  });

  it('copies: shared objects twice, __proto__ as an own key, -0 as 0, undefined properties dropped', () => {
    const shared = { s: 1 };
    const input = [shared, { again: shared }, JSON.parse('{"__proto__": {"x": 1}, "z": -0, "u": null}'), { gone: undefined, kept: '😀' }];
    const copy = snapshotJson(input, 'items') as Record<string, unknown>[];
    expect(copy).toEqual([{ s: 1 }, { again: { s: 1 } }, JSON.parse('{"__proto__": {"x": 1}, "z": 0, "u": null}'), { kept: '😀' }]);
    expect(copy[0]).not.toBe(shared);
    expect(Object.hasOwn(copy[2]!, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(copy[2])).toBe(Object.prototype);
    expect(Object.is(copy[2]!.z, 0)).toBe(true);
    expect(Object.keys(copy[3]!)).toEqual(['kept']);
  });
});
