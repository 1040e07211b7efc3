import { createRequire } from 'node:module';
import { NotImplementedError } from '@agent-sessions/core/store';
import type IORedis from 'ioredis';
import type { Cluster, ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisClient } from './client.js';

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
 *   default: none); lowered to the store's `timeoutMs` when that is shorter. A timed-out append
 *   may still have been applied: retry with the same runId.
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

interface Driver {
  Redis: typeof IORedis;
  Cluster: typeof Cluster;
}

type Require = (id: string) => unknown;

let driver: Driver | undefined;

/**
 * ioredis, loaded when the store first opens a client of its own (an injected client needs
 * nothing loaded). A missing package is a NotImplementedError naming what to install.
 */
export function loadDriver(load?: Require): Driver {
  if (driver && !load) return driver;
  let mod: { default?: unknown; Redis?: unknown; Cluster?: unknown };
  try {
    const req = load ?? createRequire(import.meta.url);
    mod = req('ioredis') as typeof mod;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new NotImplementedError('@agent-sessions/redis needs the ioredis package (a peer dependency): npm install ioredis', {
        source: 'redis',
        cause: err,
      });
    }
    throw err;
  }
  const loaded = { Redis: (mod.Redis ?? mod.default ?? mod) as typeof IORedis, Cluster: mod.Cluster as typeof Cluster };
  if (!load) driver = loaded;
  return loaded;
}

/** The last connection error a client the store opened reported, for error messages. */
export const lastConnectionError = new WeakMap<RedisClient, Error>();

function listen(client: RedisClient): void {
  // Failures reach callers through the calls that fail; without a listener ioredis would print
  // every failed reconnect attempt. The last one is kept to explain a call that fails.
  client.on('error', (err: Error) => {
    lastConnectionError.set(client, err);
  });
  client.on('ready', () => lastConnectionError.delete(client));
}

/** A standalone client for a `redis://` or `rediss://` URL, with the defaults above under `options`. */
export function connect(url: string, options: RedisOptions = {}): IORedis {
  const { Redis } = loadDriver();
  const client = new Redis(url, { ...REDIS_CONNECTION_DEFAULTS, ...options });
  listen(client);
  return client;
}

/** A Cluster client over seed nodes; every node gets the defaults above under `redisOptions`. */
export function connectCluster(nodes: ClusterNode[], redisOptions: RedisOptions, options: ClusterOptions = {}): Cluster {
  const { Cluster } = loadDriver();
  const client = new Cluster(nodes, {
    ...options,
    redisOptions: { ...REDIS_CONNECTION_DEFAULTS, ...redisOptions, ...(options.redisOptions ?? {}) },
  });
  listen(client);
  return client;
}
