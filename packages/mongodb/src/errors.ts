import type { DriverErrorTable } from '@agent-sessions/core/store';

/**
 * Server codes of a lost race: a unique index refused the write (E11000), or the storage engine
 * aborted it to break a conflict (WriteConflict 112; some MongoDB-compatible services answer
 * with a SQLSTATE-style deadlock code such as 16908292). The write did not happen, so the
 * attempt can run again.
 */
export const DUPLICATE_KEY_CODES: readonly number[] = [11000, 11001];
export const WRITE_CONFLICT_CODES: readonly number[] = [112, 16908292];
const WRITE_CONFLICT_NAMES = ['WriteConflict'];
const WRITE_CONFLICT_LABELS = ['TransientTransactionError'];
const WRITE_CONFLICT_MESSAGES = [/\bwrite ?conflict\b/i, /\bdeadlock\b/i];

/**
 * How MongoDB driver and server errors map to codes. Names are matched as text, not with
 * instanceof: an injected client may come from another copy (or major) of the driver.
 */
export const MONGO_DRIVER_ERRORS: DriverErrorTable = {
  // Only what survives the store's own retry reaches here: a lost race the budget ran out on.
  conflict: {
    codes: [...DUPLICATE_KEY_CODES, ...WRITE_CONFLICT_CODES],
    labels: WRITE_CONFLICT_LABELS,
    messages: WRITE_CONFLICT_MESSAGES,
  },
  accessDenied: {
    // AuthenticationFailed, Unauthorized, and the driver's own auth errors (wrong mechanism, no credentials).
    codes: [18, 13, 8000],
    names: ['MongoMissingCredentialsError'],
    messages: [/\bauthentication failed\b/i, /\bnot authorized\b/i, /\brequires authentication\b/i],
  },
  unavailable: {
    names: [
      'MongoNetworkError',
      'MongoNetworkTimeoutError',
      'MongoServerSelectionError',
      'MongoTopologyClosedError',
      'MongoNotConnectedError',
      'MongoServerClosedError',
      'MongoPoolClosedError',
      'PoolClearedError',
      'PoolClearedOnNetworkError',
      'WaitQueueTimeoutError',
      'MongoWaitQueueTimeoutError',
      'MongoOperationTimeoutError',
      'ConnectionPoolClearedError',
    ],
    codes: [
      6, // HostUnreachable
      7, // HostNotFound
      50, // MaxTimeMSExpired: the server-side bound of one command
      89, // NetworkTimeout
      91, // ShutdownInProgress
      189, // PrimarySteppedDown
      262, // ExceededTimeLimit
      9001, // SocketException
      10107, // NotWritablePrimary
      11600, // InterruptedAtShutdown
      11602, // InterruptedDueToReplStateChange
      13435, // NotPrimaryNoSecondaryOk
      13436, // NotPrimaryOrSecondary
    ],
    labels: ['ResetPool', 'RetryableWriteError'],
  },
};

function codesOf(err: unknown): unknown[] {
  const e = err as { code?: unknown; writeErrors?: { code?: unknown }[]; errorResponse?: { code?: unknown } } | null;
  if (!e || typeof e !== 'object') return [];
  const out: unknown[] = [e.code, e.errorResponse?.code];
  if (Array.isArray(e.writeErrors)) for (const w of e.writeErrors) out.push(w?.code);
  return out;
}

/** True for a duplicate key error (E11000): a unique index refused the write. */
export function isDuplicateKey(err: unknown): boolean {
  return codesOf(err).some((c) => typeof c === 'number' && DUPLICATE_KEY_CODES.includes(c));
}

/** True for a write the server aborted to break a conflict with another write: it did not happen. */
export function isWriteConflict(err: unknown): boolean {
  if (codesOf(err).some((c) => typeof c === 'number' && WRITE_CONFLICT_CODES.includes(c))) return true;
  const e = err as { codeName?: unknown; message?: unknown; hasErrorLabel?: unknown; errorLabels?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.codeName === 'string' && WRITE_CONFLICT_NAMES.includes(e.codeName)) return true;
  if (typeof e.hasErrorLabel === 'function') {
    const has = e.hasErrorLabel as (label: string) => boolean;
    if (WRITE_CONFLICT_LABELS.some((l) => has.call(e, l))) return true;
  } else if (Array.isArray(e.errorLabels) && WRITE_CONFLICT_LABELS.some((l) => (e.errorLabels as unknown[]).includes(l))) {
    return true;
  }
  // Matched by message only for server errors: a network error never names a deadlock.
  return typeof e.message === 'string' && (e as { name?: unknown }).name !== 'MongoNetworkError' && WRITE_CONFLICT_MESSAGES.some((re) => re.test(e.message as string));
}

/** A write that lost a race to another writer and can be tried again. */
export function isLostRace(err: unknown): boolean {
  return isDuplicateKey(err) || isWriteConflict(err);
}
