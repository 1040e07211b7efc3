import type { StoreOptions } from '@agent-sessions/core/store';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisClient } from './client.js';
import type { EvictionPolicyCheck } from './setup.js';

export interface RedisStoreOptions extends StoreOptions {
  /** An ioredis client: a standalone `Redis` or a `Cluster`. The store never closes it. Required. */
  client: RedisClient;
  /** Prepended to every key. Must not contain `{` or `}`. Default: `as:`. */
  prefix?: string | undefined;
  /**
   * What setup does when the server's `maxmemory-policy` is not `noeviction` (Redis may then
   * drop sessions and runs when memory runs out): `'error'` fails every call with
   * `invalid_input` explaining why, `'warn'` logs a warning and goes on. Default `'error'`.
   */
  evictionPolicy?: EvictionPolicyCheck | undefined;
}

export interface RedisConnectionOptions extends Omit<RedisStoreOptions, 'client'> {
  /** ioredis options (a cluster's: `ClusterOptions`), applied over `REDIS_CONNECTION_DEFAULTS`. Default: none. */
  redis?: RedisOptions | ClusterOptions | Record<string, unknown> | undefined;
}
