import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import IORedisV5 from 'ioredis-v5';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { RedisStore, type RedisClient } from '@agent-sessions/redis';
import { randomPrefix } from './helpers.js';

// The oldest ioredis the peer range allows (5.0.0), injected: the store relies only on what
// both majors share (EVALSHA/EVAL, the default export, isCluster, options.keyPrefix).
const prefix = randomPrefix('v5');

runConformanceSuite({
  name: 'redis (standalone, ioredis 5.0.0)',
  createStore: () => {
    const client = new IORedisV5(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    // Its types come from the v5 package; at runtime it is the client the store expects.
    return new RedisStore({ client: client as unknown as RedisClient, prefix });
  },
  destroyStore: async (store) => {
    await (store as RedisStore).client.quit();
  },
  test: { describe, it, beforeAll, afterAll },
});
