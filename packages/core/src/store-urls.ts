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

/**
 * Options of `mongodb://` and `mongodb+srv://`. `MongoStore`'s own options extend these (without
 * `clientOptions`), so the two never disagree.
 */
export interface MongoUrlOptions extends StoreOptions {
  /** The database. Default: the URL's, else `agent_sessions`. */
  database?: string | undefined;
  /** The collection of session headers. Default: `agent_sessions`. */
  sessionsCollection?: string | undefined;
  /** The collection of runs. Default: `agent_session_runs`. */
  runsCollection?: string | undefined;
  /** The collection of per-session locks, used only without atomic updates. Default: `agent_session_locks`. */
  locksCollection?: string | undefined;
  /**
   * Whether a conditional single-document update is atomic on this server (MongoDB: yes;
   * FerretDB 1.x: no, it reads and rewrites documents in separate steps). `'auto'` finds out at
   * setup by racing a few conditional updates on a probe document. Without them every write
   * to a session holds a short lock (a document with a unique `_id`). Default: `'auto'`.
   */
  atomicUpdates?: 'auto' | boolean | undefined;
  /**
   * The lease of a session lock. Its holder renews it every third of the lease while it writes;
   * a lock not renewed for this long belonged to a writer that died, and the next writer breaks
   * it. Keep it well below the contention budget. Default: 3000 ms.
   */
  lockLeaseMs?: number | undefined;
  /**
   * TTL indexes on `expiresAt`. `'auto'` creates them and falls back to plain indexes on a server
   * that answers "not implemented" (FerretDB 1.x); `true` requires them; `false` never creates
   * them. Reads hide expired sessions in every mode. Default: `'auto'`.
   */
  ttlIndex?: 'auto' | boolean | undefined;
  /**
   * Create the indexes on first use (idempotent). Set false when your deploy pipeline manages
   * indexes; then `capabilities.nativeTtl` is `ttlIndex === true`. Default: true.
   */
  createIndexes?: boolean | undefined;
  /**
   * How long one write keeps retrying under contention (a lost race, a write conflict, a held
   * session lock) before failing with `conflict`; it also gives up after 100 attempts. Retries
   * back off with full jitter, from 1 ms doubling up to 50 ms (20 ms between looks at a held
   * lock). Default: 80 % of `timeoutMs` (8000 ms).
   */
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
