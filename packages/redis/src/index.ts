export {
  RedisStore,
  createStoreFromUrl,
  type RedisStoreOptions,
  type RedisConnectionOptions,
} from './store.js';
export { REDIS_CONNECTION_DEFAULTS } from './connect.js';
export { DEFAULT_PREFIX, KeyLayout, encodeId, decodeId, type SessionKeys } from './keys.js';
export { classifyRedisError } from './errors.js';
export type { RedisClient } from './client.js';
