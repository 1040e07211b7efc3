import type IORedis from 'ioredis';
import type { Cluster } from 'ioredis';

/** What the store runs on: an ioredis standalone client or a Cluster client. */
export type RedisClient = IORedis | Cluster;

/** True for an ioredis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** The ioredis `keyPrefix` option of a client, which it adds to every key it sends. */
export function clientKeyPrefix(client: RedisClient): string {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return options.keyPrefix ?? options.redisOptions?.keyPrefix ?? '';
}
