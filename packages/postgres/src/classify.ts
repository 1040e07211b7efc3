import type { ErrorCode } from '@agent-sessions/core/store';

// Node socket errors that mean "the server could not be reached or went away".
const NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

// SQLSTATEs of a server that is down, starting, shutting down, overloaded, or that cancelled a
// statement on a timeout: all worth retrying later.
const PG_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57P04', // database_dropped
  '57P05', // idle_session_timeout
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '25P03', // idle_in_transaction_session_timeout
]);

// What pg and pg-pool say when a connection is lost or never came, without a code.
const MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /is not queryable/i,
  /cannot use a pool after calling end/i,
  /server closed the connection/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /PGlite is closed/i,
  /cannot use the store after close/i,
];

/** `unavailable` for connection failures and timeouts, from pg, pg-pool, PGlite or Node; else undefined. */
export function classifyPgError(err: unknown): ErrorCode | undefined {
  const seen = new Set<unknown>();
  const walk = (e: unknown): boolean => {
    if (typeof e !== 'object' || e === null || seen.has(e)) return false;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (NODE_CODES.has(code) || PG_CODES.has(code) || code.startsWith('08')) return true;
    }
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && MESSAGES.some((re) => re.test(message))) return true;
    // Node's happy-eyeballs connect wraps one error per address in an AggregateError.
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some(walk)) return true;
    return walk((e as { cause?: unknown }).cause);
  };
  return walk(err) ? 'unavailable' : undefined;
}
