import { AgentSessionsError, isAgentSessionsError } from '../errors.js';
import type { OpsLogger } from '../ops/logger.js';
import type { SessionStore } from '../session-store.js';
import type { Run, RunStatus, SessionHeader, SessionRef } from '../types.js';
import { estimateTokens, type TokenCounter } from '../window/tokens.js';
import { DEFAULT_LAST_RUNS, type WindowOptions } from '../window/window.js';
import { DEFAULT_SUMMARY_MAX_RUNS, DEFAULT_SUMMARY_TIMEOUT_MS, type SummaryFailure, type SummaryOptions } from './options.js';

// Folding the runs that left the window into the session's summary, once each:
// - which runs: seq in (header.summarySeq, first seq of the window), at most `maxRuns` a time;
// - exactly once: the new summary is written with `updateSession({ expectedVersion, summary,
//   summarySeq })`, a compare-and-set on the header. A lost race re-reads the header: if another
//   writer advanced the summary, this attempt is dropped (its runs are in the other summary);
//   if only an append moved the version, the same summary is written again on the new version;
// - never in the way: nothing here throws. A summarizer that throws, returns no string or
//   outlasts `timeoutMs` leaves the header as it was, so the same runs are folded on a later turn.

/** What one attempt did. */
export type SummaryOutcome =
  /** Nothing to fold yet (or the trigger has not fired). */
  | 'none'
  /** The summary now covers more runs. */
  | 'folded'
  /** Another writer folded these runs first: this attempt's summary was dropped. */
  | 'dropped'
  /** Another attempt for this session is running in this process. */
  | 'busy'
  /** The summarizer or the store failed; retried on a later turn. */
  | 'failed';

export interface FoldInput<Item> {
  store: SessionStore;
  ref: SessionRef;
  options: SummaryOptions;
  /** The window the model is given (its `lastRuns`, `includeFailed` and `tokenCounter` apply). */
  window?: WindowOptions<Item> | undefined;
  /** The session's header after the turn was stored; absent: read with the window. */
  session?: SessionHeader | null | undefined;
  /**
   * The runs of the window the turn was given, oldest first, plus the run it stored: the window
   * of the next turn is their newest `lastRuns`, so no read is needed to know what left it.
   * Absent: the window is read (one `readHistory`).
   */
  runs?: readonly Run[] | undefined;
  /** Names the adapter in logs and errors. */
  source: string;
  /** Where failures are logged: the wrapper's `logger` option. Default: the store's logger. */
  logger?: OpsLogger | undefined;
}

const ATTEMPTS = 5;
// Sessions being summarised in this process, per store: a second attempt in the meantime is skipped.
const RUNNING = new WeakMap<SessionStore, Set<string>>();

function statusesOf(window: WindowOptions<unknown>): ReadonlySet<RunStatus> {
  return new Set<RunStatus>(window.includeFailed ? ['completed', 'failed', 'interrupted'] : ['completed']);
}

/** The store's logger (the store option `logger`); a no-op when it has none. */
function loggerOf(store: SessionStore): OpsLogger | undefined {
  // `logger` is protected for store subclasses; core reads it for its own warnings.
  const logger = (store as unknown as { logger?: OpsLogger }).logger;
  return typeof logger?.warn === 'function' ? logger : undefined;
}

function report(input: FoldInput<unknown>, stage: SummaryFailure['stage'], error: unknown): void {
  const failure: SummaryFailure = { agentId: input.ref.agentId, sessionId: input.ref.sessionId, stage, error };
  (input.logger ?? loggerOf(input.store))?.warn('session summary not updated; retried on a later turn', {
    agentId: failure.agentId,
    sessionId: failure.sessionId,
    stage,
    code: isAgentSessionsError(error) ? error.code : undefined,
    error: error instanceof Error ? error.name : typeof error,
  });
  try {
    input.options.onError?.(failure);
  } catch {
    // A broken hook must not break the caller either.
  }
}

/**
 * The first seq of the next turn's window: the newest `lastRuns` eligible runs of `runs`. Every
 * run before it has left the window. With runs appended meanwhile by other turns the real
 * window starts later, so this never points inside it.
 */
export function windowStart(runs: readonly Run[], session: SessionHeader, window: WindowOptions<unknown>): number {
  const lastRuns = window.lastRuns ?? DEFAULT_LAST_RUNS;
  if (lastRuns === 0) return session.lastSeq + 1;
  const statuses = statusesOf(window);
  const eligible = [...runs].sort((a, b) => a.seq - b.seq).filter((r) => statuses.has(r.status));
  const first = eligible.slice(-lastRuns)[0];
  return first ? first.seq : session.lastSeq + 1;
}

async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AgentSessionsError('unavailable', `the summarizer took longer than ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the runs in (after, upTo], oldest first: one `listRuns` (upTo - after ≤ 1000). */
async function runsBetween(store: SessionStore, ref: SessionRef, after: number, upTo: number): Promise<Run[]> {
  const runs = await store.listRuns({ ...ref, limit: upTo - after, beforeSeq: upTo + 1 });
  return runs.filter((r) => r.seq > after && r.seq <= upTo);
}

/**
 * Folds the runs that left the window into the summary when the trigger says so. Never throws
 * and never rejects: failures go to `options.onError` and the store's logger. Adapters call it
 * after a turn is stored, without awaiting it unless `options.await`.
 */
export async function foldSummary<Item>(input: FoldInput<Item>): Promise<SummaryOutcome> {
  const { store, ref, options } = input;
  const window = (input.window ?? {}) as WindowOptions<unknown>;
  const key = `${ref.agentId}\u0000${ref.sessionId}\u0000${ref.userId ?? ''}`;
  let running = RUNNING.get(store);
  if (!running) RUNNING.set(store, (running = new Set()));
  if (running.has(key)) return 'busy';
  running.add(key);
  try {
    let session = input.session;
    let runs = input.runs;
    try {
      if (!session || !runs) {
        const read = await store.readHistory({ ...ref, limit: Math.max(window.lastRuns ?? DEFAULT_LAST_RUNS, 1) });
        session = read.session;
        runs = read.runs;
      }
    } catch (err) {
      report(input as FoldInput<unknown>, 'store', err);
      return 'failed';
    }
    if (!session) return 'none';
    const boundary = windowStart(runs, session, window);
    const maxRuns = options.maxRuns ?? DEFAULT_SUMMARY_MAX_RUNS;
    const upTo = Math.min(boundary - 1, session.summarySeq + maxRuns);
    const pending = boundary - 1 - session.summarySeq;
    if (upTo <= session.summarySeq) return 'none';
    const trigger = options.trigger ?? 'leaving';
    if (typeof trigger === 'object' && 'everyRuns' in trigger && pending < trigger.everyRuns) return 'none';

    let folding: Run[];
    try {
      folding = await runsBetween(store, ref, session.summarySeq, upTo);
    } catch (err) {
      report(input as FoldInput<unknown>, 'store', err);
      return 'failed';
    }
    const statuses = statusesOf(window);
    const eligible = folding.filter((r) => statuses.has(r.status));
    if (typeof trigger === 'object' && 'overTokens' in trigger) {
      const count = (window.tokenCounter ?? estimateTokens) as TokenCounter<unknown>;
      const tokens = eligible.reduce((sum, r) => sum + r.items.reduce<number>((s, item) => s + count(item), 0), 0);
      if (tokens <= trigger.overTokens && upTo === boundary - 1) return 'none';
    }

    let summary = session.summary;
    if (eligible.length > 0) {
      try {
        const text = await withTimeout(options.timeoutMs ?? DEFAULT_SUMMARY_TIMEOUT_MS, (signal) =>
          options.summarizer(session!.summary, eligible, { session: session!, signal }),
        );
        if (typeof text !== 'string') throw new AgentSessionsError('invalid_input', `the summarizer returned ${typeof text}, not a string`);
        summary = text;
      } catch (err) {
        const timedOut = isAgentSessionsError(err, 'unavailable') && /took longer than/.test(err.message);
        report(input as FoldInput<unknown>, timedOut ? 'timeout' : 'summarizer', err);
        return 'failed';
      }
    }
    // Ineligible runs only (failed turns): the summary stays, it just covers them now.
    let header = session;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await store.updateSession({ ...ref, expectedVersion: header.version, summary, summarySeq: upTo });
        return 'folded';
      } catch (err) {
        if (!isAgentSessionsError(err, 'conflict')) {
          report(input as FoldInput<unknown>, 'store', err);
          return 'failed';
        }
      }
      // The version moved: an append (write again on the new version) or a rival summary (drop ours).
      let fresh: SessionHeader | null;
      try {
        fresh = await store.getSession(ref);
      } catch (err) {
        report(input as FoldInput<unknown>, 'store', err);
        return 'failed';
      }
      if (!fresh || fresh.summarySeq !== session.summarySeq || fresh.summary !== session.summary) return 'dropped';
      header = fresh;
    }
    report(input as FoldInput<unknown>, 'store', new AgentSessionsError('conflict', 'the session kept changing while its summary was written'));
    return 'failed';
  } finally {
    running.delete(key);
  }
}
