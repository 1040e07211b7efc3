import type { ErrorCode } from '@agent-sessions/core/store';

// Socket-level failures: the server is down, unreachable or dropped the connection.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

// ioredis's own messages when it cannot reach a server, and Redis replies meaning "not now".
const UNAVAILABLE_MESSAGES = [
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
];

const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/** `unavailable` for connection failures and timeouts, looking through causes; otherwise undefined. */
export function classifyRedisError(err: unknown, depth = 0): ErrorCode | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; lastNodeError?: unknown };
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return 'unavailable';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'unavailable';
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string))) {
    return 'unavailable';
  }
  return classifyRedisError(e.lastNodeError, depth + 1) ?? classifyRedisError(e.cause, depth + 1);
}
