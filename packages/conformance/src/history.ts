import assert from 'node:assert/strict';
import { part, ref, items, rejectsWith, type ConformanceOptions } from './context.js';

/** What a turn does: read the header with the window, append only onto the history it read. */
export function historyTests(options: ConformanceOptions): void {
  part(options, 'history', ({ it, store, another }) => {
    it('readHistory returns the header and the last runs, oldest first', async () => {
      const r = ref();
      for (let i = 1; i <= 5; i++) await store().appendRun({ ...r, format: 'plain', items: items(1, `t${i}`) });
      const h = await store().readHistory({ ...r, limit: 3 });
      assert.ok(h.session);
      assert.equal(h.session.sessionId, r.sessionId);
      assert.equal(h.session.lastSeq, 5);
      assert.deepEqual(h.runs.map((x) => x.seq), [3, 4, 5]);
      const earlier = await store().readHistory({ ...r, limit: 2, beforeSeq: 3 });
      assert.deepEqual(earlier.runs.map((x) => x.seq), [1, 2]);
      assert.equal(earlier.session?.lastSeq, 5);
    });

    it('readHistory carries the summary and state the header holds', async () => {
      const r = ref();
      const { session } = await store().appendRun({ ...r, format: 'plain', items: ['a'] });
      await store().updateSession({ ...r, expectedVersion: session.version, summary: 'the user likes tea', state: { k: 1 } });
      const h = await store().readHistory({ ...r, limit: 10 });
      assert.equal(h.session?.summary, 'the user likes tea');
      assert.deepEqual(h.session?.state, { k: 1 });
      assert.equal(h.runs.length, 1);
    });

    it('readHistory of an absent session, or of another user\'s, is { session: null, runs: [] }', async () => {
      const r = ref('alice');
      await store().appendRun({ ...r, format: 'plain', items: ['a'] });
      assert.deepEqual(await store().readHistory({ ...r, userId: 'mallory', limit: 5 }), { session: null, runs: [] });
      assert.deepEqual(await store().readHistory({ ...ref(), limit: 5 }), { session: null, runs: [] });
    });

    it('readHistory never returns a run newer than the header it returns', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['first'] });
      const writers = Array.from({ length: 10 }, (_, i) => store().appendRun({ ...r, format: 'plain', items: [`w${i}`] }));
      const reads = Array.from({ length: 10 }, () => store().readHistory({ ...r, limit: 20 }));
      const [, done] = await Promise.all([Promise.all(writers), Promise.all(reads)]);
      for (const h of done) {
        assert.ok(h.session);
        const last = h.runs[h.runs.length - 1];
        assert.ok(last && last.seq <= h.session.lastSeq, 'a run newer than the header');
        assert.deepEqual(h.runs.map((x) => x.seq), Array.from({ length: h.runs.length }, (_, i) => i + 1));
      }
    });

    it('appendRun with the expected lastSeq appends', async () => {
      const r = ref();
      const first = await store().appendRun({ ...r, format: 'plain', items: ['a'], expectedLastSeq: 0 });
      assert.equal(first.run.seq, 1);
      const second = await store().appendRun({ ...r, format: 'plain', items: ['b'], expectedLastSeq: 1 });
      assert.equal(second.run.seq, 2);
    });

    it('appendRun with a stale expectedLastSeq fails with conflict and writes nothing', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['a'] });
      const before = await store().getSession(r);
      await rejectsWith(() => store().appendRun({ ...r, runId: 'late', format: 'plain', items: ['b'], expectedLastSeq: 0 }), 'conflict');
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['b'], expectedLastSeq: 2 }), 'conflict');
      const after = await store().getSession(r);
      assert.equal(after?.lastSeq, 1);
      assert.equal(after?.version, before?.version);
      assert.deepEqual((await store().listRuns({ ...r, limit: 10 })).map((x) => x.items), [['a']]);
      const next = await store().appendRun({ ...r, runId: 'late', format: 'plain', items: ['c'], expectedLastSeq: 1 });
      assert.equal(next.run.seq, 2);
      assert.equal(next.created, true);
    });

    it('expectedLastSeq above 0 on an absent session fails with conflict and creates nothing', async () => {
      const r = ref();
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['a'], expectedLastSeq: 3 }), 'conflict');
      assert.equal(await store().getSession(r), null);
      const page = await store().listSessions({ agentId: r.agentId });
      assert.equal(page.sessions.length, 0);
    });

    it('a retried run id is returned as stored even when expectedLastSeq is stale', async () => {
      const r = ref();
      const first = await store().appendRun({ ...r, runId: 'turn-1', format: 'plain', items: ['a'], expectedLastSeq: 0 });
      const again = await store().appendRun({ ...r, runId: 'turn-1', format: 'plain', items: ['a'], expectedLastSeq: 0 });
      assert.equal(again.created, false);
      assert.equal(again.run.seq, first.run.seq);
    });

    it('of turns racing with the same expectedLastSeq exactly one lands, on two instances', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['seed'] });
      const other = await another();
      const n = 8;
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => (i % 2 ? other : store()).appendRun({ ...r, format: 'plain', items: [`t${i}`], expectedLastSeq: 1 })),
      );
      const ok = results.filter((x) => x.status === 'fulfilled');
      assert.equal(ok.length, 1, `${ok.length} of ${n} landed`);
      for (const x of results) {
        if (x.status === 'rejected') assert.equal((x.reason as { code?: string }).code, 'conflict');
      }
      assert.equal((await store().getSession(r))?.lastSeq, 2);
    });

    it('expectedLastSeq must be a whole number ≥ 0', async () => {
      const r = ref();
      for (const bad of [-1, 1.5, Number.NaN, '1' as unknown as number]) {
        await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['a'], expectedLastSeq: bad }), 'invalid_input');
      }
      assert.equal(await store().getSession(r), null);
    });
  });
}
