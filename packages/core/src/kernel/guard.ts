import { AgentSessionsError, type ErrorCode } from '../errors.js';

export interface GuardOptions {
  /** The store's name, for the error's source. */
  source: string;
  /** Fail with `unavailable` after this long; null: no bound. */
  timeoutMs: number | null;
  /** The store's setup, awaited first (undefined once done). */
  ready?: (() => Promise<void> | undefined) | undefined;
  classify: (err: unknown) => ErrorCode | undefined;
}

/**
 * Runs one store call: setup first, then the call, bounded in time; every failure comes out as
 * an AgentSessionsError whose code says what the caller can do about it.
 */
export async function guarded<T>(op: string, fn: () => Promise<T>, o: GuardOptions): Promise<T> {
  const run = async (): Promise<T> => {
    const pending = o.ready?.();
    if (pending) await pending;
    return fn();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    if (o.timeoutMs === null) return await run();
    const bound = o.timeoutMs;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new AgentSessionsError(
            'unavailable',
            `${op} did not finish within ${bound} ms (the timeoutMs option); a write may still land: retry it with the same run id`,
            { source: o.source },
          ),
        );
      }, bound);
    });
    // The race settles on the first outcome; the loser's later rejection is handled by it.
    return await Promise.race([run(), timedOut]);
  } catch (err) {
    if (err instanceof AgentSessionsError) throw err;
    const code = o.classify(err) ?? 'internal';
    const reason = err instanceof Error ? err.message : String(err);
    throw new AgentSessionsError(code, `${op} failed: ${reason}`, { source: o.source, cause: err });
  } finally {
    if (timer) clearTimeout(timer);
  }
}
