import { afterAll, beforeAll, describe, it } from 'vitest';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { RedisStore } from '@agent-sessions/redis';
import { clusterClient, randomPrefix } from './helpers.js';

// The harness's three-master cluster: a session's keys and an agent's indexes hash to
// different slots, usually on different nodes, so this runs the cross-slot index path.
const prefix = randomPrefix('cluster');

runConformanceSuite({
  name: 'redis (cluster, ioredis 6)',
  createStore: () => new RedisStore({ client: clusterClient(), prefix }),
  // An injected client is the application's: the store leaves it open, so the test closes it.
  destroyStore: async (store) => {
    await (store as RedisStore).client.quit();
  },
  test: { describe, it, beforeAll, afterAll },
});
