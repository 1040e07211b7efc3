import { AgentSessionsError, classifyError, type DriverErrorTable, type ErrorCode } from '@agent-sessions/core/store';

/**
 * How pg, pg-pool and PGlite errors map to codes (see `classifyError` in core). Lost races that
 * survive the store's retries are `conflict`; refused credentials or privileges `access_denied`
 * (retrying will not help); a server that is down, starting, shutting down, overloaded, or that
 * cancelled a statement on a timeout is `unavailable`.
 */
export const PG_ERRORS: DriverErrorTable = {
  conflict: {
    codes: [
      '23505', // unique_violation
      '40001', // serialization_failure
      '40P01', // deadlock_detected
    ],
  },
  accessDenied: {
    codes: [
      '28P01', // invalid_password
      '28000', // invalid_authorization_specification (pg_hba refused, no such role)
      '42501', // insufficient_privilege
    ],
    messages: [/password authentication failed/i, /no pg_hba\.conf entry/i, /permission denied/i],
  },
  unavailable: {
    codePrefixes: ['08'], // connection_exception
    codes: [
      '57P01', // admin_shutdown
      '57P02', // crash_shutdown
      '57P03', // cannot_connect_now (starting up, recovery)
      '57P04', // database_dropped
      '57P05', // idle_session_timeout
      '57014', // query_canceled (statement_timeout)
      '55P03', // lock_not_available (lock_timeout)
      '53300', // too_many_connections
      '53400', // configuration_limit_exceeded
      '25P03', // idle_in_transaction_session_timeout
    ],
    messages: [
      /connection terminated/i,
      /timeout exceeded when trying to connect/i,
      /connection timeout/i,
      /query read timeout/i,
      /is not queryable/i,
      /cannot use a pool after calling end/i,
      /server closed the connection/i,
      /the database system is (starting up|shutting down|in recovery mode)/i,
      /PGlite is closed/i,
      /cannot use the store after close/i,
    ],
  },
};

/**
 * `unavailable` for connection failures and timeouts from pg, pg-pool, PGlite or Node; else
 * undefined. Kept for callers of earlier releases; the store itself classifies with `PG_ERRORS`.
 * @deprecated use `classifyError(err, PG_ERRORS)` from `@agent-sessions/core/store`.
 */
export function classifyPgError(err: unknown): ErrorCode | undefined {
  return classifyError(err, { unavailable: PG_ERRORS.unavailable }) === 'unavailable' ? 'unavailable' : undefined;
}

/** Wraps a driver error met outside a store call (`migrate()`), classified the store's way. */
export function wrapPgError(op: string, err: unknown): AgentSessionsError {
  if (err instanceof AgentSessionsError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new AgentSessionsError(classifyError(err, PG_ERRORS), `${op} failed: ${reason}`, { source: 'postgres', cause: err });
}
