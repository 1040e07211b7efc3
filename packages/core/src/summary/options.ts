import { invalidInput } from '../errors.js';
import type { Run, SessionHeader } from '../types.js';

/**
 * Folds runs that left the window into the session's summary. `previousSummary` is the summary
 * so far (null before the first); `runs` are the runs to fold, oldest first, each passed exactly
 * once over the session's life. Returns the new summary, which replaces the old one.
 */
export type Summarizer = (previousSummary: string | null, runs: readonly Run[], context: SummarizerContext) => Promise<string>;

export interface SummarizerContext {
  /** The session's header as read before folding (its `summary` is `previousSummary`). */
  session: SessionHeader;
  /** Aborted when `timeoutMs` passes: pass it to the model call. */
  signal: AbortSignal;
}

/**
 * When to fold:
 * - `'leaving'`: as soon as a run has left the window (one summarizer call per turn once the
 *   session is longer than the window);
 * - `{ everyRuns: n }`: once at least `n` runs have left the window unsummarised (one call every
 *   `n` turns);
 * - `{ overTokens: n }`: once the runs that left the window unsummarised hold more than `n` tokens
 *   (by the window's `tokenCounter`; reads them each turn until then).
 */
export type SummaryTrigger = 'leaving' | { everyRuns: number } | { overTokens: number };

/** What a failed summary attempt reports to `onError`. */
export interface SummaryFailure {
  agentId: string;
  sessionId: string;
  /** `summarizer`: it threw or returned no string; `timeout`: it took longer than `timeoutMs`; `store`: a read or write failed. */
  stage: 'summarizer' | 'timeout' | 'store';
  error: unknown;
}

/** The `summary` option of the adapters' wrappers. */
export interface SummaryOptions {
  /** Folds runs leaving the window into the summary. Required. */
  summarizer: Summarizer;
  /** When to fold. Default: `'leaving'`. */
  trigger?: SummaryTrigger | undefined;
  /**
   * Wait for the summary before returning the turn's result. Default: false: the summary is
   * made after the turn is stored, without delaying the result.
   */
  await?: boolean | undefined;
  /** The summarizer's time bound; past it the attempt is dropped and retried on a later turn. Default: 60000 ms. */
  timeoutMs?: number | undefined;
  /** The most runs folded by one summarizer call (the rest on later turns). Default: 100. */
  maxRuns?: number | undefined;
  /**
   * Put the summary before the window (after your own `window.prefix` items), in the
   * framework's format, counted by `window.maxTokens`. False: render it yourself from
   * `prefix(session)`'s `session.summary`. Default: true.
   */
  prefix?: boolean | undefined;
  /**
   * Called when an attempt fails (the turn itself never fails for it; the runs are folded on a
   * later turn). It is also logged as a warning through the wrapper's `logger` (else the store's). Default: none.
   */
  onError?: ((failure: SummaryFailure) => void) | undefined;
}

export const DEFAULT_SUMMARY_TIMEOUT_MS = 60_000;
export const DEFAULT_SUMMARY_MAX_RUNS = 100;

function positiveInt(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(`summary.${what} must be a whole number from 1 to ${max}`);
  }
}

/** Checks a `summary` option when the wrapper is built. */
export function validateSummary(options: SummaryOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || typeof options.summarizer !== 'function') {
    throw invalidInput('summary needs a summarizer: (previousSummary, runs) => Promise<string>');
  }
  const t = options.trigger;
  if (t !== undefined && t !== 'leaving') {
    if (typeof t !== 'object' || t === null) throw invalidInput("summary.trigger is 'leaving', { everyRuns } or { overTokens }");
    if ('everyRuns' in t) positiveInt(t.everyRuns, 'trigger.everyRuns', 1000);
    else if ('overTokens' in t) positiveInt(t.overTokens, 'trigger.overTokens');
    else throw invalidInput("summary.trigger is 'leaving', { everyRuns } or { overTokens }");
  }
  positiveInt(options.timeoutMs, 'timeoutMs', 2 ** 31 - 1);
  positiveInt(options.maxRuns, 'maxRuns', 1000);
  if (options.onError !== undefined && typeof options.onError !== 'function') throw invalidInput('summary.onError must be a function');
}
