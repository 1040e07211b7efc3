export {
  RedisStore,
  createStoreFromUrl,
  type RedisStoreOptions,
  type RedisConnectionOptions,
} from './store.js';
export { REDIS_CONNECTION_DEFAULTS } from './connect.js';
export { DEFAULT_PREFIX, KeyLayout, encodeId, decodeId, type SessionKeys } from './keys.js';
export { REDIS_ERRORS } from './errors.js';
export { parseRedisUrl, type ParsedRedisUrl } from './url.js';
export type { EvictionPolicyCheck } from './setup.js';
export type { RedisClient } from './client.js';
