import type { StoreOptions } from '@agent-sessions/core/store';
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import type { TtlIndexMode } from './indexes.js';

/** fromConnectionString's default: an outage fails a call after 3 s instead of the driver's 30 s. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 3000;
/** The database used when neither the options nor the connection string name one. */
export const DEFAULT_DATABASE = 'agent_sessions';
export const DEFAULT_SESSIONS_COLLECTION = 'agent_sessions';
export const DEFAULT_RUNS_COLLECTION = 'agent_session_runs';
export const DEFAULT_LOCKS_COLLECTION = 'agent_session_locks';

/**
 * The share of `timeoutMs` one call may spend retrying under contention before failing with
 * `conflict` (by default 8000 of 10000 ms): a contended call fails as `conflict`, retryable,
 * before the call's time bound would fail it as `unavailable`.
 */
export const CONTENTION_SHARE = 0.8;
/** How many attempts one call makes under contention before failing with `conflict`. */
export const CONTENTION_ATTEMPTS = 100;
/** The most runs deleted per command when a whole session (or a prune) removes many. */
export const DELETE_BATCH = 500;
/** What one delete command should take at most, where batch size bounds it (see DeletePacer). */
export const DELETE_TARGET_MS = 100;
/**
 * How long a write may spend inline removing the runs of an incarnation it replaces (an append or
 * create on an expired session, an import over one): the rest is left to bounded cleanup.
 */
export const INLINE_CLEANUP_MS = 100;

export interface MongoStoreOptions extends StoreOptions {
  /** A connected (or lazily connecting) client; the store never closes it. Give this or `db`. */
  client?: MongoClient | undefined;
  /** A database handle; the store never closes its client. Give this or `client`. */
  db?: Db | undefined;
  /** The database to use with `client`. Default: the client's default database, else `agent_sessions`. */
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
  /** How long a lock may be held before another writer takes it to be abandoned. Default: 10000 ms. */
  lockLeaseMs?: number | undefined;
  /**
   * TTL indexes on `expiresAt`. `'auto'` creates them and falls back to plain indexes on a server
   * that answers "not implemented" (FerretDB 1.x); `true` requires them; `false` never creates
   * them. Reads hide expired sessions in every mode. Default: `'auto'`.
   */
  ttlIndex?: TtlIndexMode | undefined;
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
}

/** @deprecated Renamed `MongoStoreOptions`. */
export type MongoSessionStoreOptions = MongoStoreOptions;

export interface FromConnectionStringOptions extends Omit<MongoStoreOptions, 'client' | 'db'> {
  /**
   * Passed to `new MongoClient(url, clientOptions)`. Unless given here, the store sets
   * `serverSelectionTimeoutMS` to 3000, `connectTimeoutMS` to 3000 and `socketTimeoutMS` to
   * `timeoutMs` + 1000, so a server that stops answering frees the connection and the same
   * client recovers once it answers again.
   */
  clientOptions?: MongoClientOptions | undefined;
}
