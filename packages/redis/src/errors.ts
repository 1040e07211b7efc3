import { AgentSessionsError, type DriverErrorTable, type ScopedRef } from '@agent-sessions/core/store';

/**
 * How ioredis's and Redis's errors map to codes (core's `classifyError` walks causes,
 * `lastNodeError` and AggregateErrors, and counts Node's socket errors as `unavailable`).
 * There is no `conflict` entry: every session write is one Lua script, so a write never loses
 * a race halfway; a stale `expectedVersion` or `expectedLastSeq` is reported by the script.
 */
export const REDIS_ERRORS: DriverErrorTable = {
  accessDenied: {
    // A wrong password, a missing AUTH, an ACL user without the needed command or key pattern.
    messages: [/^WRONGPASS\b/, /^NOAUTH\b/, /^NOPERM\b/, /^ERR AUTH\b/, /^ERR Client sent AUTH\b/],
  },
  unavailable: {
    names: ['MaxRetriesPerRequestError', 'ClusterAllFailedError'],
    messages: [
      /Connection is closed/i,
      /Stream isn't writeable/i,
      /Command timed out/i,
      /Reached the max retries per request limit/i,
      /Failed to refresh slots cache/i,
      /None of startup nodes is available/i,
      /Cluster isn't ready/i,
      /Too many Cluster redirections/i,
      /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY) /,
      /\bconnect (ECONNREFUSED|ETIMEDOUT)\b/,
    ],
  },
};

/**
 * A record the store cannot read: a header field, a run or an index entry that does not parse.
 * Code `internal`; the message names the agent, the session and, for a run, its seq, so the one
 * record can be found and repaired (or the session deleted: `deleteSession` still works).
 */
export function corrupt(ref: Pick<ScopedRef, 'agentId' | 'sessionId'>, what: string, seq?: string | number | null, cause?: unknown): AgentSessionsError {
  const where = seq === undefined || seq === null ? what : `${what} seq ${seq}`;
  return new AgentSessionsError(
    'internal',
    `session '${ref.sessionId}' of agent '${ref.agentId}': the stored ${where} is malformed; nothing was written`,
    { source: 'redis', cause },
  );
}
