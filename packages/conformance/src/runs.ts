import assert from 'node:assert/strict';
import { part, ref, items, type ConformanceOptions } from './context.js';
import type { JsonValue } from '@agent-sessions/core/store';

/** Appending runs: sequence, idempotency, exact round trips, pop. */
export function runTests(options: ConformanceOptions): void {
  part(options, 'runs', ({ it, store, another }) => {
    it('runs get sequence numbers 1, 2, 3 in append order', async () => {
      const r = ref();
      for (let i = 1; i <= 3; i++) {
        const res = await store().appendRun({ ...r, format: 'plain', items: items(1, `t${i}`) });
        assert.equal(res.run.seq, i);
      }
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.seq), [1, 2, 3]);
      assert.deepEqual(runs.map((x) => (x.items[0] as { content: string }).content), ['t1-0', 't2-0', 't3-0']);
    });

    it('appendRun returns the stored run with every field', async () => {
      const r = ref();
      const res = await store().appendRun({
        ...r,
        runId: 'run-fields',
        status: 'failed',
        format: 'openai-agents',
        items: items(3),
        usage: { inputTokens: 10, outputTokens: 5 },
        metadata: { model: 'm-1', tags: ['a'] },
      });
      assert.equal(res.created, true);
      const [stored] = await store().listRuns({ ...r, limit: 1 });
      assert.ok(stored);
      for (const run of [res.run, stored]) {
        assert.equal(run.runId, 'run-fields');
        assert.equal(run.seq, 1);
        assert.equal(run.status, 'failed');
        assert.equal(run.format, 'openai-agents');
        assert.deepEqual(run.items, items(3));
        assert.deepEqual(run.usage, { inputTokens: 10, outputTokens: 5 });
        assert.deepEqual(run.metadata, { model: 'm-1', tags: ['a'] });
        assert.equal(typeof run.createdAt, 'number');
      }
      assert.equal(stored.createdAt, res.run.createdAt);
    });

    it('status defaults to completed, usage and metadata to null, and runId is generated', async () => {
      const r = ref();
      const res = await store().appendRun({ ...r, format: 'plain', items: ['x'] });
      assert.equal(res.run.status, 'completed');
      assert.equal(res.run.usage, null);
      assert.equal(res.run.metadata, null);
      assert.ok(res.run.runId.length >= 16);
      assert.deepEqual(res.run.items, ['x']);
    });

    it('a retried append with the same runId returns the stored run and adds nothing', async () => {
      const r = ref();
      const first = await store().appendRun({ ...r, runId: 'run-1', format: 'plain', items: items(2, 'a') });
      const again = await store().appendRun({ ...r, runId: 'run-1', format: 'plain', items: items(5, 'b') });
      assert.equal(again.created, false);
      assert.equal(again.run.seq, first.run.seq);
      assert.deepEqual(again.run.items, items(2, 'a'));
      assert.equal(again.session.lastSeq, 1);
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.equal(runs.length, 1);
      const next = await store().appendRun({ ...r, runId: 'run-2', format: 'plain', items: ['x'] });
      assert.equal(next.run.seq, 2);
    });

    it('the same runId in two sessions makes two runs', async () => {
      const a = ref();
      const b = { ...a, sessionId: `${a.sessionId}-b` };
      await store().appendRun({ ...a, runId: 'shared', format: 'plain', items: items(1, 'a') });
      const res = await store().appendRun({ ...b, runId: 'shared', format: 'plain', items: items(1, 'b') });
      assert.equal(res.created, true);
      assert.deepEqual((await store().listRuns({ ...b, limit: 5 }))[0]?.items, items(1, 'b'));
      assert.deepEqual((await store().listRuns({ ...a, limit: 5 }))[0]?.items, items(1, 'a'));
    });

    it('items round-trip exactly: Unicode, nesting, numbers, empty containers, odd keys', async () => {
      const r = ref();
      const tricky: JsonValue[] = [
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'héllo 👋 日本語 \u2028 "q" \\ \n\t' }] },
        { $gt: '', 'a.b': { '': [] }, __proto__x: 1, nested: { deeper: { deepest: [[[{}]]] } } },
        [1, -0.5, 1e21, 12345678901234, 0, true, false, null],
        'a plain string item',
        42,
        null,
        { long: 'x'.repeat(100_000) },
      ];
      await store().appendRun({ ...r, format: 'plain', items: tricky });
      const [run] = await store().listRuns({ ...r, limit: 1 });
      assert.deepEqual(run?.items, JSON.parse(JSON.stringify(tricky)));
    });

    it('undefined object properties are dropped, as JSON does', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: [{ a: 1, b: undefined } as unknown as JsonValue] });
      const [run] = await store().listRuns({ ...r, limit: 1 });
      assert.deepEqual(run?.items, [{ a: 1 }]);
    });

    it('objects returned or passed in cannot change what is stored', async () => {
      const r = ref();
      const input = items(2);
      const res = await store().appendRun({ ...r, format: 'plain', items: input, metadata: { k: 'v' } });
      (input[0] as { content: string }).content = 'changed by caller';
      (res.run.items[1] as { content: string }).content = 'changed via result';
      res.session.metadata.injected = true;
      const [first] = await store().listRuns({ ...r, limit: 1 });
      assert.ok(first);
      (first.items[0] as { content: string }).content = 'changed via read';
      (first.metadata as { k: string }).k = 'changed';
      const [again] = await store().listRuns({ ...r, limit: 1 });
      assert.deepEqual(again?.items, items(2));
      assert.deepEqual(again?.metadata, { k: 'v' });
      assert.deepEqual((await store().getSession(r))?.metadata, {});
    });

    it('popItem removes items newest first, across runs, then returns null', async () => {
      const r = ref();
      await store().appendRun({ ...r, runId: 'r1', format: 'plain', items: ['a', 'b'] });
      await store().appendRun({ ...r, runId: 'r2', format: 'plain', items: ['c'] });
      const popped: JsonValue[] = [];
      for (;;) {
        const p = await store().popItem(r);
        if (!p) break;
        popped.push(p.item);
      }
      assert.deepEqual(popped, ['c', 'b', 'a']);
      assert.deepEqual(await store().listRuns({ ...r, limit: 10 }), []);
      assert.equal(await store().popItem(ref()), null);
    });

    it('popItem reports the run it took from, and a run left empty is removed', async () => {
      const r = ref();
      await store().appendRun({ ...r, runId: 'r1', format: 'plain', items: ['a', 'b'] });
      await store().appendRun({ ...r, runId: 'r2', format: 'plain', items: ['c'] });
      assert.deepEqual(await store().popItem(r), { item: 'c', runId: 'r2', seq: 2 });
      const h = await store().getSession(r);
      assert.equal(h?.lastSeq, 1);
      assert.deepEqual(await store().popItem(r), { item: 'b', runId: 'r1', seq: 1 });
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['a']]);
      const next = await store().appendRun({ ...r, format: 'plain', items: ['d'] });
      assert.equal(next.run.seq, 2);
    });

    it('concurrent popItem calls never return the same item', async () => {
      const r = ref();
      const n = 12;
      await store().appendRun({ ...r, format: 'plain', items: Array.from({ length: n }, (_, i) => `i${i}`) });
      const results = await Promise.all(Array.from({ length: n + 4 }, () => store().popItem(r)));
      const got = results.filter((x) => x !== null).map((x) => x.item);
      assert.equal(got.length, n);
      assert.equal(new Set(got).size, n);
      assert.deepEqual(await store().listRuns({ ...r, limit: 10 }), []);
    });

    it('a run appended through one instance is read through another', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: items(2) });
      const other = await another();
      const runs = await other.listRuns({ ...r, limit: 5 });
      assert.deepEqual(runs[0]?.items, items(2));
      const res = await other.appendRun({ ...r, format: 'plain', items: ['x'] });
      assert.equal(res.run.seq, 2);
    });
  });
}
