import assert from 'node:assert/strict';
import type { JsonValue, SessionStore } from '@agent-sessions/core/store';
import { part, ref, rejectsWith, type ConformanceOptions } from './context.js';

const badIds: [string, unknown][] = [
  ['an empty string', ''],
  ['a string over 256 characters', 'x'.repeat(257)],
  ['a control character', 'a\u0000b'],
  ['a newline', 'a\nb'],
  ['a lone surrogate', 'a\ud800b'],
  ['a number', 42],
  ['null', null],
  ['an object', { $gt: '' }],
];

function badItems(): [string, unknown][] {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  let deep: JsonValue = 'leaf';
  for (let i = 0; i < 100; i++) deep = [deep];
  return [
    ['a BigInt', [{ n: 10n }]],
    ['a cycle', [cycle]],
    ['a function', [{ f: () => 1 }]],
    ['a Date', [{ at: new Date(0) }]],
    ['undefined in an array', [[1, undefined, 2]]],
    ['a hole in an array', [[1, , 2]]], // eslint-disable-line no-sparse-arrays
    ['NaN', [{ n: Number.NaN }]],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['a symbol', [{ s: Symbol('x') }]],
    ['a Map', [new Map()]],
    ['a class instance', [new (class Foo {})()]],
    ['a NUL character', ['a\u0000b']],
    ['a lone surrogate', [{ text: 'x\udc00' }]],
    ['a lone surrogate in a key', [{ ['k\ud800']: 1 }]],
    ['nesting deeper than 64', [deep]],
    ['items that are not an array', { not: 'an array' }],
    ['no items at all', []],
  ];
}

/** Bad input gets invalid_input before anything is written. */
export function validationTests(options: ConformanceOptions): void {
  part(options, 'validation', ({ it, store }) => {
    const nothingWritten = async (s: SessionStore, r: ReturnType<typeof ref>) => {
      assert.equal(await s.getSession(r), null);
      assert.deepEqual((await s.listSessions({ agentId: r.agentId })).sessions, []);
    };

    for (const [what, id] of badIds) {
      it(`a session id that is ${what} fails with invalid_input`, async () => {
        const r = ref();
        await rejectsWith(() => store().appendRun({ ...r, sessionId: id as string, format: 'plain', items: ['x'] }), 'invalid_input');
        await rejectsWith(() => store().getSession({ ...r, sessionId: id as string }), 'invalid_input');
        await rejectsWith(() => store().listRuns({ ...r, sessionId: id as string, limit: 1 }), 'invalid_input');
        await rejectsWith(() => store().deleteSession({ ...r, sessionId: id as string }), 'invalid_input');
        await nothingWritten(store(), r);
      });
    }

    it('agent, user and run ids are checked like session ids', async () => {
      const r = ref();
      await rejectsWith(() => store().appendRun({ ...r, agentId: '', format: 'plain', items: ['x'] }), 'invalid_input');
      await rejectsWith(() => store().appendRun({ ...r, userId: 'x'.repeat(300), format: 'plain', items: ['x'] }), 'invalid_input');
      await rejectsWith(() => store().appendRun({ ...r, runId: 'a\tb', format: 'plain', items: ['x'] }), 'invalid_input');
      await rejectsWith(() => store().listSessions({ agentId: 'a\u0007' }), 'invalid_input');
      await nothingWritten(store(), r);
    });

    for (const [what, bad] of badItems()) {
      it(`items with ${what} fail with invalid_input and write nothing`, async () => {
        const r = ref();
        await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: bad as JsonValue[] }), 'invalid_input');
        await nothingWritten(store(), r);
      });
    }

    it('a bad item in a later append leaves earlier history intact', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['good'] });
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['ok', { bad: 1n } as never] }), 'invalid_input');
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['good']]);
      assert.equal((await store().getSession(r))?.lastSeq, 1);
    });

    it('metadata, usage, state and status are checked too', async () => {
      const r = ref();
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['x'], metadata: [] as never }), 'invalid_input');
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['x'], usage: { d: new Date() } as never }), 'invalid_input');
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['x'], status: 'done' as never }), 'invalid_input');
      await rejectsWith(() => store().appendRun({ ...r, format: '', items: ['x'] }), 'invalid_input');
      await rejectsWith(() => store().createSession({ ...r, state: 'x' as never }), 'invalid_input');
      await nothingWritten(store(), r);
      await store().appendRun({ ...r, format: 'plain', items: ['x'] });
      await rejectsWith(() => store().updateSession({ ...r, expectedVersion: 1, summary: 5 as never }), 'invalid_input');
      await rejectsWith(() => store().updateSession({ ...r, expectedVersion: 0, state: {} }), 'invalid_input');
    });

    it('limits out of range fail with invalid_input', async () => {
      const r = ref();
      for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
        await rejectsWith(() => store().listRuns({ ...r, limit }), 'invalid_input');
      }
      await rejectsWith(() => store().listRuns({ ...r, limit: 5, beforeSeq: 0 }), 'invalid_input');
      await rejectsWith(() => store().listSessions({ agentId: r.agentId, limit: 0 }), 'invalid_input');
    });

    it('errors name the package and the store', async () => {
      try {
        await store().appendRun({ ...ref(), sessionId: '', format: 'plain', items: ['x'] });
        assert.fail('expected a rejection');
      } catch (err) {
        assert.match((err as Error).message, new RegExp(`^\\[agent-sessions\\] \\[${store().name}\\] `));
      }
    });
  });
}
