import { AgentSessionsError } from '../errors.js';

/** How a store retries a write that lost a race to another writer. */
export interface ContentionOptions {
  /** Attempts at most, the first included. Default 50. */
  attempts?: number | undefined;
  /** Give up once this much time has passed since the first attempt. Default 5000 ms. */
  budgetMs?: number | undefined;
  /** The first backoff; doubles per attempt up to `maxDelayMs`, each wait drawn at random below it. Default 1 ms. */
  baseDelayMs?: number | undefined;
  /** The longest single backoff. Default 50 ms. */
  maxDelayMs?: number | undefined;
}

export const DEFAULT_CONTENTION: Required<ContentionOptions> = {
  attempts: 50,
  budgetMs: 5000,
  baseDelayMs: 1,
  maxDelayMs: 50,
};

/** Returned by an attempt that lost a race and should run again. */
export const LOST_RACE: unique symbol = Symbol('agent-sessions.lost-race');
export type LostRace = typeof LOST_RACE;

export interface RetryContext {
  /** What is being retried, for the error message: `appendRun`. */
  op: string;
  /** The store, for the error's source. */
  source: string;
  /** Also treat these thrown errors as a lost race (a duplicate key, a write conflict). */
  isLostRace?: ((err: unknown) => boolean) | undefined;
  /** Called once per lost race (metrics, tests). */
  onLostRace?: ((attempt: number, err: unknown) => void) | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it returns something other than LOST_RACE (or throws an error that is not
 * a lost race), backing off with full jitter between attempts. When the attempts or the time
 * budget run out it fails with `conflict`: contention, retryable by the caller, never `internal`
 * or `unavailable`. The first attempt runs without delay, so the uncontended path costs nothing.
 */
export async function retryContention<T>(
  attempt: (n: number) => Promise<T | LostRace>,
  ctx: RetryContext,
  options: ContentionOptions = {},
): Promise<T> {
  const started = Date.now();
  // Resolved after the first lost race only: the uncontended path allocates nothing for them.
  let o: Required<ContentionOptions> | undefined;
  let lastErr: unknown;
  for (let n = 1; ; n++) {
    try {
      const result = await attempt(n);
      if (result !== LOST_RACE) return result;
      lastErr = undefined;
      ctx.onLostRace?.(n, undefined);
    } catch (err) {
      if (!ctx.isLostRace?.(err)) throw err;
      lastErr = err;
      ctx.onLostRace?.(n, err);
    }
    o ??= resolveContention(options);
    const elapsed = Date.now() - started;
    if (n >= o.attempts || elapsed >= o.budgetMs) {
      throw new AgentSessionsError(
        'conflict',
        `${ctx.op} lost the race to other writers ${n} times in ${elapsed} ms; retry it (the same run id is safe)`,
        { source: ctx.source, cause: lastErr },
      );
    }
    const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(n - 1, 20));
    await sleep(Math.min(Math.random() * cap, Math.max(0, o.budgetMs - elapsed)));
  }
}

/** The options with DEFAULT_CONTENTION for each one not given (undefined: not given). */
function resolveContention(options: ContentionOptions): Required<ContentionOptions> {
  return {
    attempts: options.attempts ?? DEFAULT_CONTENTION.attempts,
    budgetMs: options.budgetMs ?? DEFAULT_CONTENTION.budgetMs,
    baseDelayMs: options.baseDelayMs ?? DEFAULT_CONTENTION.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_CONTENTION.maxDelayMs,
  };
}
