import assert from 'node:assert/strict';
import { type RunStatus } from '@agent-sessions/core/store';
import { loadHistory, plainCodec } from '@agent-sessions/core/adapter';
import { part, ref, items, type ConformanceOptions } from './context.js';

/** Reading history: the latest N runs, paging backwards, the default window. */
export function windowReadTests(options: ConformanceOptions): void {
  part(options, 'window reads', ({ it, store }) => {
    const fill = async (r: ReturnType<typeof ref>, n: number, status: (i: number) => RunStatus = () => 'completed') => {
      for (let i = 1; i <= n; i++) {
        await store().appendRun({ ...r, runId: `run-${i}`, status: status(i), format: 'plain', items: [`turn-${i}`] });
      }
    };

    it('listRuns returns the latest N runs, oldest first', async () => {
      const r = ref();
      await fill(r, 7);
      const runs = await store().listRuns({ ...r, limit: 3 });
      assert.deepEqual(runs.map((x) => x.seq), [5, 6, 7]);
    });

    it('listRuns with a limit larger than the history returns all of it', async () => {
      const r = ref();
      await fill(r, 4);
      assert.deepEqual((await store().listRuns({ ...r, limit: 100 })).map((x) => x.seq), [1, 2, 3, 4]);
    });

    it('listRuns returns [] for a session that does not exist', async () => {
      assert.deepEqual(await store().listRuns({ ...ref(), limit: 5 }), []);
    });

    it('paging backwards with beforeSeq visits every run exactly once', async () => {
      const r = ref();
      await fill(r, 11);
      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await store().listRuns({ ...r, limit: 4, beforeSeq: before });
        if (page.length === 0) break;
        assert.ok(page.length <= 4);
        seen.unshift(...page.map((x) => x.seq));
        before = page[0]?.seq;
      }
      assert.deepEqual(seen, Array.from({ length: 11 }, (_, i) => i + 1));
    });

    it('the default window is the last 10 completed runs; failed and interrupted runs stay stored', async () => {
      const r = ref();
      await fill(r, 14, (i) => (i === 12 ? 'failed' : i === 13 ? 'interrupted' : 'completed'));
      const w = await loadHistory(store(), r, plainCodec);
      assert.deepEqual(w.runs.map((x) => x.seq), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14].slice(-10));
      assert.deepEqual(w.items, w.runs.map((x) => `turn-${x.seq}`));
      const all = await loadHistory(store(), r, plainCodec, { includeFailed: true, lastRuns: 3 });
      assert.deepEqual(all.runs.map((x) => x.status), ['failed', 'interrupted', 'completed']);
      assert.equal((await store().listRuns({ ...r, limit: 100 })).length, 14);
    });

    it('the window reaches back past a stretch of failed runs', async () => {
      const r = ref();
      await fill(r, 18, (i) => (i > 3 ? 'failed' : 'completed'));
      const w = await loadHistory(store(), r, plainCodec, { lastRuns: 3 });
      assert.deepEqual(w.runs.map((x) => x.seq), [1, 2, 3]);
    });

    it('a window with lastRuns 0 reads nothing', async () => {
      const r = ref();
      await fill(r, 2);
      const w = await loadHistory(store(), r, plainCodec, { lastRuns: 0 });
      assert.deepEqual(w.items, []);
    });

    it('the window for a session that does not exist is empty', async () => {
      const w = await loadHistory(store(), ref(), plainCodec, { lastRuns: 5 });
      assert.deepEqual(w.items, []);
      assert.deepEqual(w.runs, []);
    });

    it('runs keep the order they were appended in even when appended within one millisecond', async () => {
      const r = ref();
      await Promise.resolve();
      for (let i = 0; i < 20; i++) await store().appendRun({ ...r, format: 'plain', items: items(1, `q${i}`) });
      const runs = await store().listRuns({ ...r, limit: 20 });
      assert.deepEqual(runs.map((x) => (x.items[0] as { content: string }).content), Array.from({ length: 20 }, (_, i) => `q${i}-0`));
    });
  });
}
