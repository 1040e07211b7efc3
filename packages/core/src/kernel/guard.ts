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
export function guarded<T>(op: string, fn: () => Promise<T>, o: GuardOptions): Promise<T> {
  const bound = o.timeoutMs;
  if (bound === null) return started(fn, o).then(undefined, (err: unknown) => Promise.reject(wrapped(op, err, o)));
  // One promise settled by whichever comes first, the call or its timer: no race of two.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new AgentSessionsError(
          'unavailable',
          `${op} did not finish within ${bound} ms (the timeoutMs option); a write may still land: retry it with the same run id`,
          { source: o.source },
        ),
      );
    }, bound);
    started(fn, o).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        try {
          reject(wrapped(op, err, o));
        } catch (classifyFailed) {
          reject(classifyFailed);
        }
      },
    );
  });
}

/**
 * Setup (when pending), then the call; a synchronous throw comes out as a rejection. Not an
 * async function: one returning the call's promise would add a promise and two microtask
 * turns to every store call.
 */
function started<T>(fn: () => Promise<T>, o: GuardOptions): Promise<T> {
  try {
    const pending = o.ready?.();
    if (pending) return pending.then(() => fn());
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A failure as an AgentSessionsError: ours as it is, anything else classified. */
function wrapped(op: string, err: unknown, o: GuardOptions): AgentSessionsError {
  if (err instanceof AgentSessionsError) return err;
  const code = o.classify(err) ?? 'internal';
  const reason = err instanceof Error ? err.message : String(err);
  return new AgentSessionsError(code, `${op} failed: ${reason}`, { source: o.source, cause: err });
}
