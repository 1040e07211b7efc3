import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { allRuns, backends, open, startWorker, Tally } from './backends.js';

const WORKERS = 8;
const APPENDS = 50;
const tally = new Tally('concurrency');
afterAll(() => tally.print());

function assertGapless(seqs: number[]): void {
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
}

describe.each(backends())('$name: 8 processes × 50 appends', (b) => {
  const ns = `rel_${randomBytes(4).toString('hex')}`;
  const agentId = `agent-${ns}`;

  it.each([
    ['one session', 1],
    ['many sessions', 16],
  ])('to %s, every append retried: nothing lost, gapless, no duplicates', async (_what, nSessions) => {
    const sessions = Array.from({ length: nSessions }, (_, i) => `s-${nSessions}-${i}`);
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      startWorker({ url: b.url, options: b.options(ns), worker: `w${w}`, agentId, sessions, count: APPENDS, itemsPerRun: 4, retry: true }),
    );
    const exits = await Promise.all(workers.map((w) => w.exited));
    exits.forEach((e, i) => expect(e, workers[i]?.stderr()).toEqual({ code: 0, signal: null }));
    tally.operations += WORKERS * APPENDS * 3;

    const store = await open(b, ns);
    try {
      let total = 0;
      const stored = new Map<string, number>();
      for (const sessionId of sessions) {
        const runs = await allRuns(store, { agentId, sessionId });
        assertGapless(runs.map((r) => r.seq));
        expect(new Set(runs.map((r) => r.runId)).size).toBe(runs.length);
        for (const r of runs) {
          expect(r.items).toHaveLength(4);
          stored.set(`${sessionId}/${r.runId}`, r.seq);
        }
        total += runs.length;
      }
      const acked = workers.flatMap((w) => w.acked);
      tally.runsLost += WORKERS * APPENDS - total;
      expect(total).toBe(WORKERS * APPENDS);
      expect(acked).toHaveLength(WORKERS * APPENDS);
      // Every acknowledged run is stored at the seq it was acknowledged with.
      for (const a of acked) expect(stored.get(`${a.sessionId}/${a.runId}`)).toBe(a.seq);
    } finally {
      await store.close();
    }
  }, 180_000);
});
