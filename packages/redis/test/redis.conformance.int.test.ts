import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { RedisStore } from '@agent-sessions/redis';
import { randomPrefix } from './helpers.js';

// Every store made here opens its own connection (fromConnectionString) and closes it on close().
const prefix = randomPrefix('standalone');

runConformanceSuite({
  name: 'redis (standalone, ioredis 6)',
  createStore: () => RedisStore.fromConnectionString(inject('redisUrl'), { prefix }),
  test: { describe, it, beforeAll, afterAll },
});
