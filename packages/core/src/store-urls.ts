import { invalidInput } from './errors.js';
import type { StoreOptions } from './kernel/normalized.js';

// The options `createStore(url, options)` takes, per scheme. They are declared here, in core,
// so an application gets them checked without importing the store package; each store package
// takes exactly these in its `createStoreFromUrl`.

/** Options of `memory://`: the common ones. */
export type MemoryUrlOptions = StoreOptions;

/** Options of `postgres://`, `postgresql://` and `pglite://`. */
export interface PostgresUrlOptions extends StoreOptions {
  /** Schema the tables live in. Default `public`. */
  schema?: string | undefined;
  /** Prefix of table and index names. Default `agent_sessions`. */
  tablePrefix?: string | undefined;
  /** Create or upgrade the tables on first use. Default true. */
  migrate?: boolean | undefined;
  /** Named prepared statements (pg only). Default true. */
  preparedStatements?: boolean | undefined;
  /** Passed to `new pg.Pool()` (postgres:// only). */
  pool?: Record<string, unknown> | undefined;
}

/** Options of `redis://`, `rediss://` and `redis+cluster://`. */
export interface RedisUrlOptions extends StoreOptions {
  /** Prepended to every key. Default `as:`. */
  prefix?: string | undefined;
  /** ioredis options (for a cluster: the Cluster's options). */
  redis?: Record<string, unknown> | undefined;
  /** What to do when the server may evict keys (`maxmemory-policy` other than `noeviction`). Default `'error'`. */
  evictionPolicy?: 'error' | 'warn' | undefined;
}

/** Options of `mongodb://` and `mongodb+srv://`. */
export interface MongoUrlOptions extends StoreOptions {
  /** The database. Default: the URL's, else `agent_sessions`. */
  database?: string | undefined;
  sessionsCollection?: string | undefined;
  runsCollection?: string | undefined;
  locksCollection?: string | undefined;
  /** Whether conditional updates are atomic on the server. Default `'auto'` (probed). */
  atomicUpdates?: 'auto' | boolean | undefined;
  lockLeaseMs?: number | undefined;
  ttlIndex?: 'auto' | boolean | undefined;
  createIndexes?: boolean | undefined;
  contentionTimeoutMs?: number | undefined;
  /** Passed to `new MongoClient(url, clientOptions)`. */
  clientOptions?: Record<string, unknown> | undefined;
}

/** The options each URL scheme takes. */
export interface StoreUrlOptions {
  memory: MemoryUrlOptions;
  postgres: PostgresUrlOptions;
  postgresql: PostgresUrlOptions;
  pglite: PostgresUrlOptions;
  redis: RedisUrlOptions;
  rediss: RedisUrlOptions;
  'redis+cluster': RedisUrlOptions;
  'rediss+cluster': RedisUrlOptions;
  mongodb: MongoUrlOptions;
  'mongodb+srv': MongoUrlOptions;
}

export type StoreScheme = keyof StoreUrlOptions;

/**
 * The options for a URL: by its scheme when the URL is a literal, else the options any scheme
 * takes. A misspelt option fails to compile either way.
 */
export type OptionsForUrl<U extends string> = U extends `${infer S}://${string}`
  ? Lowercase<S> extends StoreScheme
    ? StoreUrlOptions[Lowercase<S>]
    : StoreUrlOptions[StoreScheme]
  : StoreUrlOptions[StoreScheme];

const COMMON = ['ttl', 'touchOnRead', 'clock', 'timeoutMs', 'logger', 'telemetry', 'encryption'] as const;
const POSTGRES = [...COMMON, 'schema', 'tablePrefix', 'migrate', 'preparedStatements', 'pool'] as const;
const REDIS = [...COMMON, 'prefix', 'redis', 'evictionPolicy'] as const;
const MONGO = [
  ...COMMON,
  'database',
  'sessionsCollection',
  'runsCollection',
  'locksCollection',
  'atomicUpdates',
  'lockLeaseMs',
  'ttlIndex',
  'createIndexes',
  'contentionTimeoutMs',
  'clientOptions',
] as const;

/** The option names each scheme accepts at run time (the types above, as lists). */
export const STORE_URL_OPTION_NAMES: Readonly<Record<StoreScheme, readonly string[]>> = {
  memory: COMMON,
  postgres: POSTGRES,
  postgresql: POSTGRES,
  pglite: POSTGRES.filter((o) => o !== 'pool' && o !== 'preparedStatements'),
  redis: REDIS,
  rediss: REDIS,
  'redis+cluster': REDIS,
  'rediss+cluster': REDIS,
  mongodb: MONGO,
  'mongodb+srv': MONGO,
};

/** The scheme of a store URL, lower-cased, or undefined when it has none. */
export function urlScheme(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
}

/**
 * Refuses options a scheme does not take, so a typo (`shema`) fails with `invalid_input` instead
 * of silently writing to the defaults.
 */
export function assertUrlOptions(scheme: StoreScheme, options: object, source?: string): void {
  if (typeof options !== 'object' || options === null) throw invalidInput('options must be an object', source);
  const allowed = STORE_URL_OPTION_NAMES[scheme];
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k) && (options as Record<string, unknown>)[k] !== undefined);
  if (unknown.length > 0) {
    throw invalidInput(
      `${scheme}:// does not take the option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; it takes ${allowed.join(', ')}`,
      source,
    );
  }
}
