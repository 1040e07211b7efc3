import { AgentSessionsError, SessionStore, classifyError, type AppendRunResult, type DriverErrorTable, type History, type MongoUrlOptions, type NormalizedAppend, type NormalizedCreate, type NormalizedImport, type NormalizedList, type NormalizedPatch, type NormalizedUserList, type NormalizedListRuns, type NormalizedPrune, type NormalizedRead, type NormalizedRewriteRun, type NormalizedRewriteText, type NormalizedUpdate, type NormalizedWrite, type PoppedItem, type PruneResult, type Run, type ServerInfo, type SessionHeader, type StoreCapabilities, type StoredHeader } from '@agent-sessions/core/store';
import { MongoClient, type Collection, type Db } from 'mongodb';
import { append } from './append.js';
import { DeletePacer } from './batches.js';
import { HeaderCache, exclusive, type MongoContext } from './context.js';
import { headerKey, type HeaderDoc, type RunDoc } from './documents.js';
import { MONGO_DRIVER_ERRORS } from './errors.js';
import { backfillTags, ensureIndexes, type TtlIndexMode } from './indexes.js';
import { probeAtomicUpdates, type LockDoc } from './locks.js';
import { CONTENTION_ATTEMPTS, CONTENTION_SHARE, DEFAULT_DATABASE, DEFAULT_LOCK_LEASE_MS, DEFAULT_LOCKS_COLLECTION, DEFAULT_RUNS_COLLECTION, DEFAULT_SERVER_SELECTION_TIMEOUT_MS, DEFAULT_SESSIONS_COLLECTION, DELETE_BATCH, DELETE_TARGET_MS, INLINE_CLEANUP_MS, type FromConnectionStringOptions, type MongoStoreOptions } from './options.js';
import { pop } from './pop.js';
import { prune } from './prune.js';
import { importSession } from './import.js';
import { getSession, listRuns, listSessions, listUserSessions, readHistory } from './reads.js';
import { rewriteRun, rewriteText } from './rewrite.js';
import { StuckConnectionWatch } from './stuck.js';
import { create, patch, remove, update } from './sessions.js';
import { assertDatabaseName, checkUrl, databaseFromUrl, hostsFromUrl, redact } from './url.js';

/** Lost races per operation since the store was made (see `MongoStore.contention`). */
export interface ContentionStats {
  lostRaces: number;
  byOp: Record<string, number>;
}

/**
 * A session store over MongoDB, or any server that speaks its wire protocol (FerretDB).
 *
 * One document per session header and one per run. An append inserts the run at the header's
 * `lastSeq + 1`, tagged with the header's slot, then commits it by a compare-and-set on the
 * header. The unique index on (agentId, sessionId, seq) lets only one run take a sequence
 * number, the one on (agentId, sessionId, runId) makes retries idempotent, and the slot makes a
 * run that lost its chance never committable. Whoever finds a committable run commits it, so a
 * writer that dies halfway blocks nobody. No multi-document transactions are needed. Servers
 * without atomic conditional updates take a per-session lock around every write instead.
 */
export class MongoStore extends SessionStore {
  readonly name = 'mongodb';
  protected override readonly driverErrors: DriverErrorTable = MONGO_DRIVER_ERRORS;
  private readonly sessions: Collection<HeaderDoc>;
  private readonly runs: Collection<RunDoc>;
  private readonly locks: Collection<LockDoc>;
  private readonly db: Db;
  /** The client behind `db` (the driver's `Db` keeps it). */
  private readonly client: MongoClient | undefined;
  #server: ServerInfo | undefined;
  private ownedClient: MongoClient | null = null;
  private hosts: string | undefined;
  private readonly ttlIndex: TtlIndexMode;
  private readonly createIndexes: boolean;
  private readonly atomicUpdatesMode: 'auto' | boolean;
  private nativeTtl: boolean;
  private atomicUpdates = true;
  private readonly stats: ContentionStats = { lostRaces: 0, byOp: {} };
  private readonly ctx: MongoContext;
  /** The last write queued per session (see `write`). */
  private readonly queues = new Map<string, Promise<void>>();
  /** Frees connections stuck by a driver race when the server goes away (see `stuck.ts`). */
  private readonly stuck: StuckConnectionWatch;

  constructor(options: MongoStoreOptions) {
    super(options);
    if (!options || (!options.client && !options.db)) {
      throw new AgentSessionsError('invalid_input', 'Missing option "client" or "db" (or use MongoStore.fromConnectionString)', {
        source: 'mongodb',
      });
    }
    if (options.database !== undefined) assertDatabaseName(options.database);
    const db: Db = options.db ?? (options.client as MongoClient).db(options.database ?? defaultDbName(options.client as MongoClient));
    this.db = db;
    this.client = (db as { client?: MongoClient }).client;
    this.stuck = new StuckConnectionWatch(this.client);
    this.sessions = db.collection<HeaderDoc>(options.sessionsCollection ?? DEFAULT_SESSIONS_COLLECTION);
    this.runs = db.collection<RunDoc>(options.runsCollection ?? DEFAULT_RUNS_COLLECTION);
    this.locks = db.collection<LockDoc>(options.locksCollection ?? DEFAULT_LOCKS_COLLECTION);
    this.atomicUpdatesMode = options.atomicUpdates ?? 'auto';
    this.ttlIndex = options.ttlIndex ?? 'auto';
    this.createIndexes = options.createIndexes ?? true;
    this.nativeTtl = !this.createIndexes && this.ttlIndex === true;
    const store = this;
    this.ctx = {
      name: this.name,
      sessions: this.sessions,
      runs: this.runs,
      locks: this.locks,
      get atomicUpdates() {
        return store.atomicUpdates;
      },
      lockLeaseMs: options.lockLeaseMs ?? DEFAULT_LOCK_LEASE_MS,
      contention: {
        attempts: CONTENTION_ATTEMPTS,
        budgetMs: options.contentionTimeoutMs ?? Math.max(1, Math.floor(this.timeoutMs * CONTENTION_SHARE)),
        baseDelayMs: 1,
        maxDelayMs: 50,
      },
      maxTimeMS: this.timeoutMs,
      deletes: new DeletePacer(DELETE_TARGET_MS, 10, DELETE_BATCH),
      inlineCleanupMs: INLINE_CLEANUP_MS,
      headers: new HeaderCache(),
      notFound: (ref) => this.notFound(ref),
      exists: (ref) => this.exists(ref),
      conflict: (ref, expected, actual) => this.conflict(ref, expected, actual),
      staleHistory: (ref, expected, actual) => this.staleHistory(ref, expected, actual),
      lostRace: (op) => {
        this.stats.lostRaces += 1;
        this.stats.byOp[op] = (this.stats.byOp[op] ?? 0) + 1;
      },
    };
  }

  /**
   * A store that opens (and on `close()` closes) its own client. The database is
   * `options.database`, else the one named in the URL, else `agent_sessions`. Unless
   * `clientOptions` says otherwise, `serverSelectionTimeoutMS` and `connectTimeoutMS` are 3000
   * and `socketTimeoutMS` is `timeoutMs` + 1000: calls fail fast with `unavailable` while the
   * server is down or paused, and the driver reconnects when it is back. A malformed URL fails
   * with `invalid_input`.
   */
  static fromConnectionString(url: string, options: FromConnectionStringOptions = {}): MongoStore {
    const { clientOptions, ...rest } = options;
    const database = options.database ?? databaseFromUrl(url) ?? DEFAULT_DATABASE;
    assertDatabaseName(database);
    const timeoutMs = options.timeoutMs ?? 10_000;
    let client: MongoClient;
    try {
      client = new MongoClient(url, {
        serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
        connectTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
        socketTimeoutMS: timeoutMs + 1000,
        ...clientOptions,
      });
    } catch (err) {
      const scheme = /^mongodb\+srv:/i.test(String(url)) ? 'mongodb+srv' : 'mongodb';
      throw new AgentSessionsError('invalid_input', `${scheme}:// connection string '${redact(String(url))}' is not valid: ${(err as Error).message}`, {
        source: 'mongodb',
        cause: err,
      });
    }
    const store = new MongoStore({ ...rest, db: client.db(database) });
    store.ownedClient = client;
    store.hosts = hostsFromUrl(url);
    return store;
  }

  /** `nativeTtl` is true once TTL indexes are in place (known after the first call or `setup()`). */
  get capabilities(): StoreCapabilities {
    return { nativeTtl: this.nativeTtl };
  }

  /**
   * What the server turned out to support: TTL indexes, and atomic conditional updates (without
   * them, writes to one session take a lock). Known after the first call or `setup()`.
   */
  get serverFeatures(): { ttlIndex: boolean; atomicUpdates: boolean } {
    return { ttlIndex: this.nativeTtl, atomicUpdates: this.atomicUpdates };
  }

  /** Lost races (unique-index refusals, write conflicts, commits that did not match, lock waits) retried so far. */
  get contention(): ContentionStats {
    return { lostRaces: this.stats.lostRaces, byOp: { ...this.stats.byOp } };
  }

  /**
   * Where the server is, for spans and metrics: the client's first seed host and port (or its
   * socket path, or the SRV name), and the database. Read from the driver's parsed options, so
   * never the user name or password; computed once.
   */
  protected override serverInfo(): ServerInfo | undefined {
    if (this.#server) return this.#server;
    const opts = this.client?.options as { hosts?: { host?: string; port?: number; socketPath?: string }[]; srvHost?: string } | undefined;
    const seed = opts?.hosts?.[0];
    const info: ServerInfo = { namespace: this.db.databaseName };
    if (seed?.socketPath) info.address = seed.socketPath;
    else if (seed?.host) {
      info.address = seed.host;
      info.port = seed.port ?? 27017;
    } else if (opts?.srvHost) info.address = opts.srvHost;
    this.#server = info;
    return info;
  }

  /** Creates the indexes (idempotent) and finds out whether conditional updates are atomic. */
  protected override async doSetup(): Promise<void> {
    if (this.createIndexes) {
      this.nativeTtl = await ensureIndexes(this.sessions, this.runs, this.ttlIndex);
      await backfillTags(this.sessions, this.locks);
    }
    this.atomicUpdates = this.atomicUpdatesMode === 'auto' ? await probeAtomicUpdates(this.locks) : this.atomicUpdatesMode;
  }

  protected doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    return this.write(input, () => append(this.ctx, input));
  }

  protected doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    return this.call(() => listRuns(this.ctx, input));
  }

  protected override doReadHistory(input: NormalizedListRuns): Promise<History> {
    return this.call(() => readHistory(this.ctx, input));
  }

  protected doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    return this.call(() => getSession(this.ctx, input));
  }

  protected doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
    return this.call(() => listSessions(this.ctx, input));
  }

  protected doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    return this.write(input, () => create(this.ctx, input));
  }

  protected doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    return this.write(input, () => update(this.ctx, input));
  }

  protected override doPatchSession(input: NormalizedPatch): Promise<StoredHeader> {
    return this.write(input, () => patch(this.ctx, input));
  }

  protected override doRewriteRun(input: NormalizedRewriteRun): Promise<boolean> {
    return this.write(input, () => rewriteRun(this.ctx, input));
  }

  protected override doRewriteText(input: NormalizedRewriteText): Promise<boolean> {
    return this.write(input, () => rewriteText(this.ctx, input));
  }

  protected override doListUserSessions(input: NormalizedUserList): Promise<StoredHeader[]> {
    return this.call(() => listUserSessions(this.ctx, input));
  }

  protected override doImportSession(input: NormalizedImport): Promise<StoredHeader> {
    return this.write(input, () => importSession(this.ctx, input));
  }

  protected doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    return this.write(input, () => remove(this.ctx, input, this.timeoutMs / 2));
  }

  protected doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    return this.write(input, () => pop(this.ctx, input));
  }

  protected doPrune(input: NormalizedPrune): Promise<PruneResult> {
    return this.call(() => prune(this.ctx, input));
  }

  protected async doClose(): Promise<void> {
    this.stuck.stop();
    const client = this.ownedClient;
    this.ownedClient = null;
    if (client) await client.close();
  }

  /**
   * Runs a write to one session after the writes to it this store already has in flight (in the
   * order they came), holding the session's lock where the server needs one. Writers in one
   * process then never race each other: contention, and its retries, is only between processes,
   * and no write waits behind later ones.
   */
  private write<T>(ref: { agentId: string; sessionId: string }, fn: () => Promise<T>): Promise<T> {
    const key = headerKey(ref.agentId, ref.sessionId);
    const run = () => this.call(() => exclusive(this.ctx, ref, fn));
    const prev = this.queues.get(key);
    const result = prev ? prev.then(run, run) : run();
    const tail = result.then(
      () => {},
      () => {},
    );
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return result;
  }

  /**
   * Runs a primitive; a driver error that means the server is out of reach gets the server's
   * address in its message (the driver's own may name neither, "Server selection timed out"),
   * and frees driver connections stuck on a closed socket (see `StuckConnectionWatch`).
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AgentSessionsError || classifyError(err, this.driverErrors) !== 'unavailable') throw err;
      // Out of reach: if it is the driver's stuck-socket race, the next call finds the server again.
      this.stuck.now();
      if (!this.hosts) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      if (reason.includes(this.hosts)) throw err;
      throw new Error(`${reason} (server ${this.hosts})`, { cause: err });
    }
  }
}

/**
 * @deprecated Renamed `MongoStore`; this alias stays for existing code.
 */
export const MongoSessionStore = MongoStore;
/** @deprecated Renamed `MongoStore`. */
export type MongoSessionStore = MongoStore;

function defaultDbName(client: MongoClient): string {
  const name = (client.options as { dbName?: string } | undefined)?.dbName;
  return name && name !== 'test' ? name : DEFAULT_DATABASE;
}

/**
 * What `createStore('mongodb://…')` from `@agent-sessions/core` calls: the options this scheme
 * takes are checked (an unknown one fails with `invalid_input`), then the same as
 * `MongoStore.fromConnectionString(url, options)`.
 */
export function createStoreFromUrl(url: string, options: MongoUrlOptions = {}): MongoStore {
  checkUrl(url, options);
  return MongoStore.fromConnectionString(url, options as FromConnectionStringOptions);
}

export { databaseFromUrl };
