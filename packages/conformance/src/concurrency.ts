import assert from 'node:assert/strict';
import { iterateRuns } from '@agent-sessions/core';
import type { Run, SessionRef, SessionStore } from '@agent-sessions/core/store';
import { part, ref, type ConformanceOptions } from './context.js';

/** Every run of a session, oldest first, paging back through `listRuns` 1,000 at a time. */
/** Every run of a session, oldest first, read in bounded pages (core's `iterateRuns`). */
export async function allRuns(store: SessionStore, session: SessionRef): Promise<Run[]> {
  const out: Run[] = [];
  for await (const run of iterateRuns(store, session, { order: 'asc', pageSize: 1000 })) out.push(run);
  return out;
}

function assertGapless(runs: Run[], n: number): void {
  assert.deepEqual(runs.map((x) => x.seq), Array.from({ length: n }, (_, i) => i + 1), 'sequence is not 1..n');
  assert.equal(new Set(runs.map((x) => x.runId)).size, n, 'a run id appears twice');
}

/** Many writers at once: nothing lost, nothing doubled, no gaps. */
export function concurrencyTests(options: ConformanceOptions): void {
  part(options, 'concurrency', ({ it, store, another, options: o }) => {
    const n = o.concurrency;

    it(`${n} concurrent appends to one session: nothing lost, sequence gapless`, async () => {
      const r = ref();
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store().appendRun({ ...r, runId: `w${i}`, format: 'plain', items: [`w${i}-a`, `w${i}-b`] }),
        ),
      );
      const runs = await allRuns(store(), r);
      assertGapless(runs, n);
      for (const run of runs) assert.deepEqual(run.items, [`${run.runId}-a`, `${run.runId}-b`]);
      assert.equal((await store().getSession(r))?.lastSeq, n);
    });

    it(`${n} concurrent appends, each sent twice: no duplicates`, async () => {
      const r = ref();
      const results = await Promise.all(
        Array.from({ length: n * 2 }, (_, i) =>
          store().appendRun({ ...r, runId: `w${i % n}`, format: 'plain', items: [`w${i % n}`] }),
        ),
      );
      assert.equal(results.filter((x) => x.created).length, n);
      for (const res of results) assert.deepEqual(res.run.items, [res.run.runId]);
      const bySeq = new Map<string, number>();
      for (const res of results) {
        const seen = bySeq.get(res.run.runId);
        if (seen !== undefined) assert.equal(res.run.seq, seen, 'a retry returned another seq');
        bySeq.set(res.run.runId, res.run.seq);
      }
      assertGapless(await allRuns(store(), r), n);
    });

    it('concurrent appends through two store instances stay gapless', async () => {
      const r = ref();
      const other = await another();
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 === 0 ? store() : other).appendRun({ ...r, runId: `w${i}`, format: 'plain', items: [i] }),
        ),
      );
      assertGapless(await allRuns(other, r), n);
    });

    it('concurrent first appends to many new sessions each create exactly one session', async () => {
      const agentId = ref().agentId;
      const sessions = Array.from({ length: 8 }, (_, i) => `s${i}`);
      await Promise.all(
        sessions.flatMap((sessionId) =>
          Array.from({ length: 4 }, (_, j) => store().appendRun({ agentId, sessionId, format: 'plain', items: [j] })),
        ),
      );
      const page = await store().listSessions({ agentId, limit: 100 });
      assert.equal(page.sessions.length, 8);
      for (const s of page.sessions) assert.equal(s.lastSeq, 4);
    });

    it('concurrent createSession calls create the session once', async () => {
      const r = ref();
      const results = await Promise.all(Array.from({ length: 8 }, () => store().createSession(r)));
      assert.equal(results.filter((x) => x.created).length, 1);
    });
  });
}
