import type { ErrorCode } from '@agent-sessions/core/store';

// Matched by name, not instanceof: an injected client may come from another copy (or major) of
// the driver than the one this package imports.
const UNAVAILABLE_NAMES = new Set([
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
]);

// Server codes for a server that is going away, stepping down or unreachable.
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
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
]);

const UNAVAILABLE_LABELS = ['ResetPool', 'RetryableWriteError', 'TransientTransactionError'];

/** `unavailable` for connection failures, timeouts and failovers; undefined for anything else. */
export function classifyMongoError(err: unknown): ErrorCode | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { name?: unknown; code?: unknown; hasErrorLabel?: unknown };
    if (typeof x.name === 'string' && UNAVAILABLE_NAMES.has(x.name)) return 'unavailable';
    if (typeof x.code === 'number' && UNAVAILABLE_CODES.has(x.code)) return 'unavailable';
    if (typeof x.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(x.code)) {
      return 'unavailable';
    }
    if (typeof x.hasErrorLabel === 'function') {
      const has = x.hasErrorLabel as (label: string) => boolean;
      if (UNAVAILABLE_LABELS.some((l) => has.call(e, l))) return 'unavailable';
    }
  }
  return undefined;
}

/** True for a duplicate key error (E11000): a unique index refused the write. */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: unknown; writeErrors?: { code?: unknown }[] };
  return e?.code === 11000 || (Array.isArray(e?.writeErrors) && e.writeErrors.some((w) => w.code === 11000));
}
