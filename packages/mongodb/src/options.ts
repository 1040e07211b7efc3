import type { MongoUrlOptions } from '@agent-sessions/core/store';
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';

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
/**
 * The lease of a session lock (servers without atomic updates). Renewed by its holder every third
 * of it; well below the contention budget (8 s by default) so a writer waiting behind one that
 * died gets the lock long before it would give up.
 */
export const DEFAULT_LOCK_LEASE_MS = 3000;
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

/**
 * The store's options: the `mongodb://` URL options core declares (collections, atomic updates,
 * locks, TTL indexes, contention; documented there and in the README), and the handle to use.
 */
export interface MongoStoreOptions extends Omit<MongoUrlOptions, 'clientOptions'> {
  /** A connected (or lazily connecting) client; the store never closes it. Give this or `db`. */
  client?: MongoClient | undefined;
  /** A database handle; the store never closes its client. Give this or `client`. */
  db?: Db | undefined;
  /** The database to use with `client`. Default: the client's default database, else `agent_sessions`. */
  database?: string | undefined;
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
