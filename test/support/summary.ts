import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import type { SessionStore, SummaryOptions } from '@agent-sessions/core';
import { PostgresStore } from '@agent-sessions/postgres';
import { expect, vi } from 'vitest';

type Summarizer = SummaryOptions['summarizer'];

/** Appends the seqs of the runs it folds, `[1,2]`, to the summary so far (after `delayMs`). */
export function seqSummarizer(delayMs = 0): Summarizer {
  return async (previous, runs) => {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return `${previous ?? ''}[${runs.map((r) => r.seq).join(',')}]`;
  };
}

/** A `seqSummarizer` whose first `failures` calls throw, as an unavailable summary model would. */
export function failingSummarizer(failures: number): Summarizer {
  const fold = seqSummarizer();
  let failing = failures;
  return async (previous, runs, context) => {
    if (failing-- > 0) throw new Error('summary model unavailable');
    return fold(previous, runs, context);
  };
}

/** A summarizer that appends `+` once `release()` is called, to see what waits for it. */
export function gatedSummarizer() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const summarizer = vi.fn(async (previous: string | null) => {
    await gate;
    return `${previous ?? ''}+`;
  });
  return { summarizer, release };
}

/**
 * What an offline summarizing model answers to core's summary prompt: the previous summary and
 * every user line that states a fact ("user: My ..."), so what the summary holds is predictable.
 */
export function factSummary(prompt: string): string {
  const previous = /Summary so far:\n([\s\S]*?)\n\nNext part/.exec(prompt)?.[1] ?? '(none)';
  const next = prompt.split('Next part of the conversation:\n')[1] ?? '';
  const facts = next.split('\n').filter((l) => l.startsWith('user: My '));
  return [previous === '(none)' ? '' : previous, ...facts].filter(Boolean).join('\n');
}

/** A wrapped agent or model on `store`: `turn(input, sessionId)` runs and stores one turn. */
export type TurnRunner = (input: string, sessionId: string) => Promise<unknown>;

/**
 * Two wrapper instances over one PostgreSQL (PGlite), each on its own store, run 15 rounds of
 * turns on one session at once (window of 3 runs, awaited summaries): every run is folded exactly
 * once, in order, however the two interleave.
 */
export async function foldTwoInstancesAtOnce(
  agentId: string,
  wrap: (store: SessionStore, options: { window: { lastRuns: number }; summary: SummaryOptions }) => TurnRunner,
): Promise<void> {
  const db = new PGlite();
  const a = new PostgresStore({ client: db });
  const b = new PostgresStore({ client: db });
  try {
    const options = { window: { lastRuns: 3 }, summary: { summarizer: seqSummarizer(5), await: true } };
    const first = wrap(a, options);
    const second = wrap(b, options);
    const sessionId = `two-${randomUUID()}`;
    for (let round = 1; round <= 15; round++) {
      await Promise.all([first(`a ${round}`, sessionId), second(`b ${round}`, sessionId)]);
    }
    const header = await a.getSession({ agentId, sessionId });
    const folded = [...header!.summary!.matchAll(/\[([\d,]*)\]/g)].flatMap((m) => m[1]!.split(',').map(Number));
    expect(header!.lastSeq).toBe(30);
    expect(folded).toEqual(Array.from({ length: header!.summarySeq }, (_, i) => i + 1));
    expect(header!.summarySeq).toBeGreaterThanOrEqual(25);
  } finally {
    await a.close();
    await b.close();
    await db.close();
  }
}
