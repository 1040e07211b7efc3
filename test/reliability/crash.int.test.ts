import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { allRuns, backends, open, startWorker, Tally } from './backends.js';

const ITEMS = 20;
const tally = new Tally('crash');
afterAll(() => tally.print());

describe.each(backends())('$name: a writer killed with SIGKILL mid-append', (b) => {
  const ns = `rel_${randomBytes(4).toString('hex')}`;

  it.each([5, 17, 40])('after %i acknowledged runs leaves only whole runs and loses none acknowledged', async (killAfter) => {
    const agentId = `agent-${ns}`;
    const sessionId = `crash-${killAfter}`;
    // Large items make each append take long enough on the wire to be cut in the middle.
    const w = startWorker({ url: b.url, options: b.options(ns), worker: `k${killAfter}`, agentId, sessions: [sessionId], count: 10_000, itemsPerRun: ITEMS, pad: 4096 });
    await w.waitForAcks(killAfter);
    w.child.kill('SIGKILL');
    const exit = await w.exited;
    expect(exit.signal, w.stderr()).toBe('SIGKILL');
    tally.faults += 1;
    tally.operations += w.acked.length;

    const store = await open(b, ns);
    try {
      const runs = await allRuns(store, { agentId, sessionId });
      expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
      for (const r of runs) {
        expect(r.items).toHaveLength(ITEMS);
        expect(r.items.every((it) => (it as { runId: string }).runId === r.runId)).toBe(true);
      }
      const stored = new Set(runs.map((r) => r.runId));
      const lost = w.acked.filter((a) => !stored.has(a.runId)).length;
      tally.runsLost += lost;
      expect(lost).toBe(0);
      // At most the one append in flight when the process died may have landed unacknowledged.
      expect(runs.length - w.acked.length).toBeLessThanOrEqual(1);
      // The store still works for the next writer. A store may finish the dead writer's in-flight
      // run (whole) on that next write, so read everything again: still gapless and whole, every
      // acknowledged run there, at most one run nobody acknowledged, and the new run last.
      const next = await store.appendRun({ agentId, sessionId, format: 'plain', items: ['after the crash'] });
      const after = await allRuns(store, { agentId, sessionId });
      expect(after.map((r) => r.seq)).toEqual(after.map((_, i) => i + 1));
      expect(after[after.length - 1]?.runId).toBe(next.run.runId);
      const before = after.slice(0, -1);
      for (const r of before) {
        expect(r.items).toHaveLength(ITEMS);
        expect(r.items.every((it) => (it as { runId: string }).runId === r.runId)).toBe(true);
      }
      const ids = new Set(before.map((r) => r.runId));
      expect(w.acked.filter((a) => !ids.has(a.runId))).toEqual([]);
      expect(before.length - w.acked.length).toBeLessThanOrEqual(1);
    } finally {
      await store.close();
    }
  }, 120_000);
});
