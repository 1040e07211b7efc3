import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import IORedisV5, { Cluster as ClusterV5 } from 'ioredis-v5';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { RedisStore, type RedisClient } from '@agent-sessions/redis';
import { clusterNodes, randomPrefix } from './helpers.js';

// The oldest ioredis the peer range allows (5.0.0), injected, standalone and Cluster: the store
// relies only on what both majors share (EVALSHA/EVAL, the default export, isCluster, options).
// Its types come from the v5 package; at runtime it is the client the store expects.
const prefix = randomPrefix('v5');

runConformanceSuite({
  name: 'redis (standalone, ioredis 5.0.0)',
  createStore: () => {
    const client = new IORedisV5(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    return new RedisStore({ client: client as unknown as RedisClient, prefix });
  },
  destroyStore: async (store) => {
    await (store as RedisStore).client.quit();
  },
  test: { describe, it, beforeAll, afterAll },
});

runConformanceSuite({
  name: 'redis (cluster, ioredis 5.0.0)',
  createStore: () => {
    const client = new ClusterV5(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 1 } });
    return new RedisStore({ client: client as unknown as RedisClient, prefix: `${prefix}c:` });
  },
  destroyStore: async (store) => {
    await (store as RedisStore).client.quit();
  },
  test: { describe, it, beforeAll, afterAll },
});
