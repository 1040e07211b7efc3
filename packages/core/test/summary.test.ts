import { MemoryStore, type JsonValue, type Run, type SessionStore } from '@agent-sessions/core';
import {
  applyWindow,
  foldSummary,
  loadHistory,
  plainCodec,
  summaryWindow,
  validateSummary,
  windowStart,
  type SummaryFailure,
  type SummaryOptions,
  type WindowOptions,
} from '@agent-sessions/core/adapter';
import { describe, expect, it, vi } from 'vitest';

const ref = (sessionId: string) => ({ agentId: 'sum', sessionId });

/** A summarizer whose summary lists the seqs it folded: `[1,2][3]` — each seq must appear once. */
function seqSummarizer(calls: number[][] = []): SummaryOptions['summarizer'] {
  return async (previous, runs) => {
    calls.push(runs.map((r) => r.seq));
    return `${previous ?? ''}[${runs.map((r) => r.seq).join(',')}]`;
  };
}

function foldedSeqs(summary: string | null): number[] {
  return [...(summary ?? '').matchAll(/\[([\d,]*)\]/g)].flatMap((m) => (m[1] ? m[1].split(',').map(Number) : []));
}

/** One turn as an adapter runs it: read the window with the header, append, fold what left the window. */
async function turn(store: SessionStore, sessionId: string, n: number, summary: SummaryOptions, window: WindowOptions<JsonValue> = {}) {
  const w = await loadHistory(store, ref(sessionId), plainCodec, summaryWindow<JsonValue>(window, summary, (s) => `summary: ${s}`));
  const appended = await store.appendRun({ ...ref(sessionId), format: 'plain', items: [`user ${n}`, `assistant ${n}`] });
  const outcome = await foldSummary({ store, ref: ref(sessionId), options: summary, window, session: appended.session, runs: [...w.runs, appended.run], source: 'test' });
  return { window: w, outcome };
}

/** Two handles on one store's data, as two processes: the per-process guard does not join them. */
function secondInstance<S extends object>(store: S): S {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('session summaries (core)', () => {
  it('folds exactly the runs that left the window, each once, and the prefix puts the summary first', async () => {
    const store = new MemoryStore();
    const calls: number[][] = [];
    const summary: SummaryOptions = { summarizer: seqSummarizer(calls) };
    const outcomes: string[] = [];
    for (let n = 1; n <= 25; n++) outcomes.push((await turn(store, 's1', n, summary, { lastRuns: 10 })).outcome);
    // Nothing leaves a 10-run window before turn 11; then one run per turn.
    expect(outcomes.slice(0, 10)).toEqual(Array(10).fill('none'));
    expect(outcomes.slice(10)).toEqual(Array(15).fill('folded'));
    expect(calls).toEqual(Array.from({ length: 15 }, (_, i) => [i + 1]));
    const header = await store.getSession(ref('s1'));
    expect(header!.summarySeq).toBe(15);
    expect(foldedSeqs(header!.summary)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    // The next turn's model input: the summary, then exactly the runs after summarySeq.
    const next = await loadHistory(store, ref('s1'), plainCodec, summaryWindow<JsonValue>({ lastRuns: 10 }, summary, (s) => `summary: ${s}`));
    expect(next.items[0]).toBe(`summary: ${header!.summary}`);
    expect(next.runs[0]!.seq).toBe(header!.summarySeq + 1);
  });

  it('everyRuns folds in batches; overTokens waits until the runs that left hold enough tokens', async () => {
    const store = new MemoryStore();
    const calls: number[][] = [];
    for (let n = 1; n <= 20; n++) await turn(store, 'every', n, { summarizer: seqSummarizer(calls), trigger: { everyRuns: 4 } }, { lastRuns: 5 });
    // Runs leave a 5-run window from turn 6; a batch of 4 is folded at turns 9, 13 and 17.
    expect(calls).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
    ]);
    const tokenCalls: number[][] = [];
    // Each run is two items of ~2 tokens: 4 tokens a run, so more than 10 tokens is 3 runs.
    for (let n = 1; n <= 12; n++) await turn(store, 'tokens', n, { summarizer: seqSummarizer(tokenCalls), trigger: { overTokens: 10 } }, { lastRuns: 2 });
    expect(tokenCalls).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });

  it('a failing summarizer never throws, reports through onError and the store logger, and its runs are folded on a later turn', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const store = new MemoryStore({ logger });
    const failures: SummaryFailure[] = [];
    let broken = 3;
    const inner = seqSummarizer();
    const summary: SummaryOptions = {
      summarizer: async (prev, runs, ctx) => {
        if (broken-- > 0) throw new Error('model down');
        return inner(prev, runs, ctx);
      },
      onError: (f) => failures.push(f),
    };
    const outcomes: string[] = [];
    for (let n = 1; n <= 6; n++) outcomes.push((await turn(store, 'fail', n, summary, { lastRuns: 2 })).outcome);
    expect(outcomes).toEqual(['none', 'none', 'failed', 'failed', 'failed', 'folded']);
    expect(failures.map((f) => [f.stage, (f.error as Error).message])).toEqual(Array(3).fill(['summarizer', 'model down']));
    expect(logger.warn).toHaveBeenCalledTimes(3);
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain('user 1'); // no session content in logs
    // The working attempt folds everything that left meanwhile, once.
    const header = await store.getSession(ref('fail'));
    expect(foldedSeqs(header!.summary)).toEqual([1, 2, 3, 4]);
  });

  it('a summarizer that outlasts timeoutMs is dropped (signal aborted) and the turn is not held up', async () => {
    const store = new MemoryStore();
    const failures: SummaryFailure[] = [];
    let signal: AbortSignal | undefined;
    const summary: SummaryOptions = {
      timeoutMs: 50,
      summarizer: (_prev, _runs, ctx) => {
        signal = ctx.signal;
        return new Promise<string>(() => undefined);
      },
      onError: (f) => failures.push(f),
    };
    for (let n = 1; n <= 2; n++) await turn(store, 'slow', n, summary, { lastRuns: 1 });
    expect(failures.map((f) => f.stage)).toEqual(['timeout']);
    expect(signal?.aborted).toBe(true);
    expect((await store.getSession(ref('slow')))!.summarySeq).toBe(0);
  });

  it('two instances folding at once: one summary lands, the other is dropped, no run is folded twice', async () => {
    const store = new MemoryStore();
    const other = secondInstance(store);
    for (let n = 1; n <= 12; n++) await store.appendRun({ ...ref('race'), format: 'plain', items: [`user ${n}`] });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: number[][] = [];
    const inner = seqSummarizer(calls);
    const summary: SummaryOptions = { summarizer: async (p, r, c) => (await gate, inner(p, r, c)) };
    const a = foldSummary({ store, ref: ref('race'), options: summary, window: { lastRuns: 4 }, source: 'a' });
    const b = foldSummary({ store: other, ref: ref('race'), options: summary, window: { lastRuns: 4 }, source: 'b' });
    const c = foldSummary({ store, ref: ref('race'), options: summary, window: { lastRuns: 4 }, source: 'c' });
    await new Promise((r) => setTimeout(r, 10));
    release();
    const outcomes = (await Promise.all([a, b, c])).sort();
    expect(outcomes).toEqual(['busy', 'dropped', 'folded']);
    expect(calls).toHaveLength(2);
    const header = await store.getSession(ref('race'));
    expect(header!.summarySeq).toBe(8);
    expect(foldedSeqs(header!.summary)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('an append racing the summary write does not lose the summary: it is written again on the new version', async () => {
    const store = new MemoryStore();
    for (let n = 1; n <= 6; n++) await store.appendRun({ ...ref('append'), format: 'plain', items: [`user ${n}`] });
    const summary: SummaryOptions = {
      summarizer: async (prev, runs) => {
        await store.appendRun({ ...ref('append'), format: 'plain', items: ['concurrent turn'] });
        return `${prev ?? ''}[${runs.map((r) => r.seq).join(',')}]`;
      },
    };
    expect(await foldSummary({ store, ref: ref('append'), options: summary, window: { lastRuns: 2 }, source: 't' })).toBe('folded');
    const header = await store.getSession(ref('append'));
    expect([header!.summarySeq, header!.lastSeq, header!.summary]).toEqual([4, 7, '[1,2,3,4]']);
  });

  it('only eligible runs reach the summarizer; failed ones are covered without it; maxRuns bounds one call', async () => {
    const store = new MemoryStore();
    for (let n = 1; n <= 30; n++) {
      await store.appendRun({ ...ref('mixed'), format: 'plain', items: [`user ${n}`], status: n % 3 === 0 ? 'failed' : 'completed' });
    }
    const calls: number[][] = [];
    const options: SummaryOptions = { summarizer: seqSummarizer(calls), maxRuns: 8 };
    expect(await foldSummary({ store, ref: ref('mixed'), options, window: { lastRuns: 3 }, source: 't' })).toBe('folded');
    expect(calls).toEqual([[1, 2, 4, 5, 7, 8]]);
    expect((await store.getSession(ref('mixed')))!.summarySeq).toBe(8);
  });

  it('windowStart: the next window starts at the newest lastRuns eligible runs', () => {
    const run = (seq: number, status: Run['status'] = 'completed') => ({ seq, status }) as Run;
    const header = { lastSeq: 9 } as Parameters<typeof windowStart>[1];
    expect(windowStart([run(5), run(6, 'failed'), run(7), run(8), run(9)], header, { lastRuns: 3 })).toBe(7);
    expect(windowStart([run(5), run(6, 'failed'), run(7)], header, { lastRuns: 3, includeFailed: true })).toBe(5);
    expect(windowStart([], header, { lastRuns: 0 })).toBe(10);
  });

  it('the summary is a prefix item: after the caller prefix, counted by maxTokens, absent without a summary', () => {
    const runs = Array.from({ length: 6 }, (_, i) => ({ seq: i + 1, status: 'completed', items: [`message number ${i + 1}`] }) as unknown as Run);
    const summary: SummaryOptions = { summarizer: async () => '' };
    const long = 'x'.repeat(40);
    const window = summaryWindow<string>({ prefix: ['system'], maxTokens: 30 }, summary, (s) => `summary: ${s}`);
    const withSummary = applyWindow(runs, plainCodec as never, window, { summary: long });
    const without = applyWindow(runs, plainCodec as never, window, { summary: null });
    expect(withSummary.items.slice(0, 2)).toEqual(['system', `summary: ${long}`]);
    expect(without.items[0]).toBe('system');
    expect(without.items[1]).not.toMatch(/^summary/);
    // The summary's tokens come out of the history's budget.
    expect(withSummary.items.length - 2).toBeLessThan(without.items.length - 1);
    expect(summaryWindow({ lastRuns: 3 }, { ...summary, prefix: false }, (s) => s)).toEqual({ lastRuns: 3 });
  });

  it('options are checked', () => {
    expect(() => validateSummary({} as never)).toThrow(/summarizer/);
    expect(() => validateSummary({ summarizer: async () => '', trigger: { everyRuns: 0 } })).toThrow(/everyRuns/);
    expect(() => validateSummary({ summarizer: async () => '', trigger: 'sometimes' as never })).toThrow(/trigger/);
    expect(() => validateSummary({ summarizer: async () => '', maxRuns: 5000 })).toThrow(/maxRuns/);
    expect(() => validateSummary({ summarizer: async () => '', trigger: { overTokens: 100 }, timeoutMs: 10 })).not.toThrow();
  });
});
