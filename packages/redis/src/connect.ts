import IORedis, { type RedisOptions } from 'ioredis';

/**
 * ioredis options `fromConnectionString` starts from, chosen so that calls fail within a few
 * seconds while the server is down instead of waiting in the offline queue, and the client
 * reconnects by itself once it is back:
 *
 * - `maxRetriesPerRequest: 1`: a queued call survives one failed reconnect attempt, then fails
 *   with MaxRetriesPerRequestError (ioredis default: 20, about a minute of waiting).
 * - `retryStrategy`: reconnect after 100, 200, … ms, at most 1000 ms apart, forever. With the
 *   setting above, a call made while the server is down fails after about two attempts (≤ 2 s).
 * - `commandTimeout: 5000`: no call waits longer than 5 s for a reply, queued or sent (ioredis
 *   default: none). A timed-out append may still have been applied: retry with the same runId.
 * - `connectTimeout: 5000`: give up on a TCP connect that hangs (ioredis default: 10000).
 * - `enableOfflineQueue: true` (as ioredis): calls made before the first connect completes
 *   wait for it instead of failing at once.
 */
export const REDIS_CONNECTION_DEFAULTS: Readonly<RedisOptions> = Object.freeze({
  maxRetriesPerRequest: 1,
  retryStrategy: (times: number) => Math.min(times * 100, 1000),
  commandTimeout: 5000,
  connectTimeout: 5000,
  enableOfflineQueue: true,
});

/** A standalone client for a `redis://` or `rediss://` URL, with the defaults above under `options`. */
export function connect(url: string, options: RedisOptions = {}): IORedis {
  const client = new IORedis(url, { ...REDIS_CONNECTION_DEFAULTS, ...options });
  // Failures reach callers through the calls that fail (as `unavailable`); without a listener
  // ioredis would print every failed reconnect attempt to the console.
  client.on('error', () => {});
  return client;
}
