import { AgentSessionsError, SessionStore, canAccess, isExpired, type AppendRunResult, type ErrorCode, type NormalizedAppend, type NormalizedCreate, type NormalizedList, type NormalizedListRuns, type NormalizedPrune, type NormalizedRead, type NormalizedUpdate, type NormalizedWrite, type PoppedItem, type PruneResult, type Run, type ScopedRef, type SessionHeader, type StoreCapabilities } from '@agent-sessions/core/store';
import { MongoClient, type Collection, type Db, type Filter, type ObjectId } from 'mongodb';
import {
  NEVER,
  fromJsonText,
  headerKey,
  normalizeHeader,
  newGen,
  runsExpiry,
  sessionExpiry,
  toHeader,
  toJsonText,
  toRun,
  type HeaderDoc,
  type PopIntent,
  type RunDoc,
} from './documents.js';
import { classifyMongoError, isDuplicateKey } from './errors.js';
import { ensureIndexes, type TtlIndexMode } from './indexes.js';
import { probeAtomicUpdates, withLock, type LockDoc } from './locks.js';
import {
  DEFAULT_DATABASE,
  DEFAULT_LOCKS_COLLECTION,
  DEFAULT_RUNS_COLLECTION,
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
  DEFAULT_SESSIONS_COLLECTION,
  type FromConnectionStringOptions,
  type MongoSessionStoreOptions,
} from './options.js';

type StoredRun = RunDoc & { _id: ObjectId };

/** Where a run stands against the header read after it. */
type RunState = 'committed' | 'committable' | 'dead' | 'pop';

const expiresMs = (h: HeaderDoc): number | null => (h.expiresAt ? h.expiresAt.getTime() : null);

/**
 * A session store over MongoDB, or any server that speaks its wire protocol (FerretDB).
 *
 * One document per session header and one per run. An append inserts the run at the header's
 * `lastSeq + 1`, tagged with the header version it read, then commits it by a compare-and-set
 * on the header (`version` and `lastSeq` unchanged). The unique index on (agentId, sessionId,
 * seq) lets only one run take a sequence number, the one on (agentId, sessionId, runId) makes
 * retries idempotent, and the version tag makes a run that lost its chance never committable.
 * Whoever finds a committable run commits it, so a writer that dies halfway blocks nobody.
 * No multi-document transactions are needed.
 */
export class MongoSessionStore extends SessionStore {
  readonly name = 'mongodb';
  private readonly db: Db;
  private readonly sessions: Collection<HeaderDoc>;
  private readonly runs: Collection<RunDoc>;
  private readonly locks: Collection<LockDoc>;
  private ownedClient: MongoClient | null = null;
  private readonly ttlIndex: TtlIndexMode;
  private readonly createIndexes: boolean;
  private readonly contentionTimeoutMs: number;
  private readonly atomicUpdatesMode: 'auto' | boolean;
  private readonly lockLeaseMs: number;
  private nativeTtl: boolean;
  private atomicUpdates = true;
  private ready: Promise<void> | null = null;

  constructor(options: MongoSessionStoreOptions) {
    super(options);
    if (!options || (!options.client && !options.db)) {
      throw new AgentSessionsError('invalid_input', 'Missing option "client" or "db" (or use MongoSessionStore.fromConnectionString)', {
        source: 'mongodb',
      });
    }
    this.db = options.db ?? (options.client as MongoClient).db(options.database ?? defaultDbName(options.client as MongoClient));
    this.sessions = this.db.collection<HeaderDoc>(options.sessionsCollection ?? DEFAULT_SESSIONS_COLLECTION);
    this.runs = this.db.collection<RunDoc>(options.runsCollection ?? DEFAULT_RUNS_COLLECTION);
    this.locks = this.db.collection<LockDoc>(options.locksCollection ?? DEFAULT_LOCKS_COLLECTION);
    this.atomicUpdatesMode = options.atomicUpdates ?? 'auto';
    this.lockLeaseMs = options.lockLeaseMs ?? 10_000;
    this.ttlIndex = options.ttlIndex ?? 'auto';
    this.createIndexes = options.createIndexes ?? true;
    this.contentionTimeoutMs = options.contentionTimeoutMs ?? 20_000;
    this.nativeTtl = !this.createIndexes && this.ttlIndex === true;
  }

  /**
   * A store that opens (and on `close()` closes) its own client. The database is
   * `options.database`, else the one named in the URL, else `agent_sessions`. Unless
   * `clientOptions` says otherwise, `serverSelectionTimeoutMS` is 3000, so calls fail fast with
   * `unavailable` while the server is down; the driver reconnects when it is back.
   */
  static fromConnectionString(url: string, options: FromConnectionStringOptions = {}): MongoSessionStore {
    const { clientOptions, ...rest } = options;
    const client = new MongoClient(url, { serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS, ...clientOptions });
    const store = new MongoSessionStore({ ...rest, db: client.db(options.database ?? databaseFromUrl(url) ?? DEFAULT_DATABASE) });
    store.ownedClient = client;
    return store;
  }

  /** `nativeTtl` is true once TTL indexes are in place (known after the first call or `setup()`). */
  get capabilities(): StoreCapabilities {
    return { nativeTtl: this.nativeTtl };
  }

  /** Creates the indexes now instead of on first use. Safe to call any number of times. */
  override async setup(): Promise<void> {
    try {
      await this.ensureReady();
    } catch (err) {
      if (err instanceof AgentSessionsError) throw err;
      throw new AgentSessionsError(this.classifyError(err) ?? 'internal', `setup failed: ${(err as Error).message}`, {
        source: this.name,
        cause: err,
      });
    }
  }

  /**
   * What the server turned out to support: TTL indexes, and atomic conditional updates (without
   * them, writes to one session take a lock). Known after the first call or `setup()`.
   */
  get serverFeatures(): { ttlIndex: boolean; atomicUpdates: boolean } {
    return { ttlIndex: this.nativeTtl, atomicUpdates: this.atomicUpdates };
  }

  private ensureReady(): Promise<void> {
    this.ready ??= (async () => {
      if (this.createIndexes) this.nativeTtl = await ensureIndexes(this.sessions, this.runs, this.ttlIndex);
      this.atomicUpdates =
        this.atomicUpdatesMode === 'auto' ? await probeAtomicUpdates(this.locks) : this.atomicUpdatesMode;
    })().catch((err: unknown) => {
      this.ready = null; // try again on the next call, e.g. once the server is back
      throw err;
    });
    return this.ready;
  }

  /** Runs a write alone on its session where the server cannot compare-and-set atomically. */
  private exclusive<T>(ref: { agentId: string; sessionId: string }, fn: () => Promise<T>): Promise<T> {
    if (this.atomicUpdates) return fn();
    const key = headerKey(ref.agentId, ref.sessionId);
    return withLock(this.locks, key, { leaseMs: this.lockLeaseMs, timeoutMs: this.contentionTimeoutMs, source: this.name }, fn);
  }

  protected override classifyError(err: unknown): ErrorCode | undefined {
    return classifyMongoError(err);
  }

  // ---- appendRun ----------------------------------------------------------------------------

  protected async doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    await this.ensureReady();
    return this.exclusive(input, () => this.append(input));
  }

  private async append(input: NormalizedAppend): Promise<AppendRunResult> {
    const items = input.items.map(toJsonText);
    const build = (h: HeaderDoc): RunDoc => {
      const ttlMs = input.ttlMs === undefined ? h.ttlMs : input.ttlMs;
      const run: RunDoc = {
        agentId: input.agentId,
        sessionId: input.sessionId,
        gen: h.gen,
        runId: input.runId,
        seq: h.lastSeq + 1,
        base: h.version,
        createdAt: input.now,
        status: input.status,
        format: input.format,
        items,
        n: items.length,
        usage: input.usage === null ? null : toJsonText(input.usage),
        metadata: input.metadata === null ? null : toJsonText(input.metadata),
        expiresAt: runsExpiry(ttlMs, input.now),
      };
      // Absent, not undefined: the driver would store undefined as null, which means "never expires".
      if (input.ttlMs !== undefined) run.ttl = input.ttlMs;
      return run;
    };

    let mine: { id: ObjectId; run: RunDoc } | null = null;
    const deadline = Date.now() + this.contentionTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.backoff(attempt, deadline, 'appendRun');
      const h = await this.reserve(input);
      if (!h) continue;
      if (h.pop) {
        await this.completePop(h);
        continue;
      }
      if (isExpired(expiresMs(h), input.now) || (h.version === 0 && !canAccess(h.userId, input.userId))) {
        // Expired (or a reservation this caller may not see, so absent to it): start afresh.
        await this.restart(h, input);
        continue;
      }
      if (!canAccess(h.userId, input.userId)) {
        if (mine) await this.runs.deleteOne({ _id: mine.id });
        throw this.notFound(input);
      }

      if (mine) {
        // Our run is in but our commit failed: someone committed it for us, it can still be
        // committed, or it can never be (the header moved on) and goes.
        const { id, run } = mine;
        const doc = await this.runs.findOne({ _id: id });
        const cur = await this.header(h._id);
        if (!doc) {
          mine = null; // removed as dead, or popped away entirely: append again
          continue;
        }
        const state = this.classify(cur, doc);
        if (state === 'committed' && cur) return { run: toRun(doc) as Run, created: true, session: toHeader(cur) };
        if (state === 'committable' && cur) {
          const next = await this.commit(cur, doc);
          if (next) return { run: toRun(run) as Run, created: true, session: toHeader(next) };
        } else if (state === 'dead') {
          await this.runs.deleteOne({ _id: id });
          mine = null;
        } else if (state === 'pop' && cur) {
          await this.completePop(cur);
        }
        continue;
      }

      const run = build(h);
      const id = await this.tryInsert(run);
      if (id) {
        const next = await this.commit(h, run);
        if (next) return { run: toRun(run) as Run, created: true, session: toHeader(next) };
        mine = { id, run };
        continue;
      }

      // Refused by a unique index: this run id is stored already, or another run holds this seq.
      // Runs are read before the header, so a run from an incarnation newer than the header
      // read cannot be mistaken for a dead one.
      const found = (await this.runs
        .find({ agentId: input.agentId, sessionId: input.sessionId, $or: [{ seq: run.seq }, { runId: run.runId }] })
        .toArray()) as StoredRun[];
      const cur = await this.header(h._id);
      for (const d of found) {
        const state = this.classify(cur, d);
        if (d.runId === input.runId && state === 'committed' && cur) {
          if (!canAccess(cur.userId, input.userId)) throw this.notFound(input);
          const stored = toRun(d, cur.pop);
          if (stored) return { run: stored, created: false, session: toHeader(cur) };
        }
        if (state === 'committable' && cur) await this.commit(cur, d);
        else if (state === 'dead') await this.runs.deleteOne({ _id: d._id });
        else if (state === 'pop' && cur) await this.completePop(cur);
      }
    }
  }

  /** The header, created as a hidden reservation (version 0) when there is none. */
  private async reserve(input: NormalizedAppend): Promise<HeaderDoc | null> {
    const fresh = this.newHeader(input, input.ttlMs === undefined ? input.defaultTtlMs : input.ttlMs, input.sessionMetadata, {}, 0);
    const { _id, ...onInsert } = fresh;
    try {
      const h = await this.sessions.findOneAndUpdate({ _id }, { $setOnInsert: onInsert }, { upsert: true, returnDocument: 'after' });
      return h && normalizeHeader(h);
    } catch (err) {
      // Two upserts of one new _id: one inserts, the other may get E11000. Read again.
      if (isDuplicateKey(err)) return null;
      throw err;
    }
  }

  /** Replaces an expired (or unseen reserved) incarnation by a new reservation, and drops its runs. */
  private async restart(h: HeaderDoc, input: NormalizedAppend): Promise<void> {
    const ttlMs = input.ttlMs === undefined ? input.defaultTtlMs : input.ttlMs;
    const { _id, ...fresh } = this.newHeader(input, ttlMs, input.sessionMetadata, {}, 0);
    const res = await this.sessions.updateOne({ _id, gen: h.gen, version: h.version }, { $set: fresh });
    if (res.matchedCount === 1) await this.runs.deleteMany({ agentId: h.agentId, sessionId: h.sessionId, gen: h.gen });
  }

  private newHeader(
    ref: ScopedRef & { now: number },
    ttlMs: number | null,
    metadata: object,
    state: object,
    version: number,
  ): HeaderDoc {
    return {
      _id: headerKey(ref.agentId, ref.sessionId),
      agentId: ref.agentId,
      sessionId: ref.sessionId,
      userId: ref.userId,
      gen: newGen(),
      createdAt: ref.now,
      updatedAt: ref.now,
      expiresAt: sessionExpiry(ttlMs, ref.now),
      ttlMs,
      runsExpireAt: runsExpiry(ttlMs, ref.now),
      metadata: JSON.stringify(metadata),
      state: JSON.stringify(state),
      summary: null,
      version,
      lastSeq: 0,
      pop: null,
    };
  }

  private async header(key: string): Promise<HeaderDoc | null> {
    const h = await this.sessions.findOne({ _id: key });
    return h && normalizeHeader(h);
  }

  private async tryInsert(run: RunDoc): Promise<ObjectId | null> {
    try {
      return (await this.runs.insertOne({ ...run })).insertedId as ObjectId;
    } catch (err) {
      if (isDuplicateKey(err)) return null;
      throw err;
    }
  }

  /**
   * A run is committed once the header's lastSeq reached it (in its incarnation), committable
   * while it sits right after lastSeq on the header version it was appended on, and dead
   * otherwise: versions only grow, so it can never become committable again.
   */
  private classify(h: HeaderDoc | null, d: RunDoc): RunState {
    if (!h || d.gen !== h.gen) return 'dead';
    if (d.seq <= h.lastSeq) return 'committed';
    if (d.base === h.version && d.seq === h.lastSeq + 1) return h.pop ? 'pop' : 'committable';
    return 'dead';
  }

  /** The compare-and-set that makes `run` part of the history; anyone may run it. */
  private async commit(h: HeaderDoc, run: RunDoc): Promise<HeaderDoc | null> {
    const ttlMs = run.ttl === undefined ? h.ttlMs : run.ttl;
    const raised = await this.raiseRunsExpiry(h, ttlMs, run.createdAt);
    const set = {
      lastSeq: run.seq,
      version: run.base + 1,
      updatedAt: Math.max(h.updatedAt, run.createdAt),
      expiresAt: sessionExpiry(ttlMs, run.createdAt),
      ttlMs,
      ...(raised ? { runsExpireAt: raised } : {}),
    };
    const res = await this.sessions.updateOne(
      { _id: h._id, gen: h.gen, version: run.base, lastSeq: run.seq - 1, pop: null },
      { $set: set },
    );
    return res.matchedCount === 1 ? { ...h, ...set } : null;
  }

  /**
   * Keeps every run's expiry at or after its session's: when a write moves the session's expiry
   * past the runs' recorded lower bound, all runs of the incarnation get twice the TTL (`$max`,
   * so never shortened). Done before the header write, so a crash in between is harmless.
   */
  private async raiseRunsExpiry(h: HeaderDoc, ttlMs: number | null, now: number): Promise<Date | null> {
    const needed = sessionExpiry(ttlMs, now) ?? NEVER;
    if (h.runsExpireAt.getTime() >= needed.getTime()) return null;
    const target = runsExpiry(ttlMs, now);
    await this.runs.updateMany({ agentId: h.agentId, sessionId: h.sessionId, gen: h.gen }, { $max: { expiresAt: target } });
    return target;
  }

  private async backoff(attempt: number, deadline: number, op: string): Promise<void> {
    if (Date.now() > deadline) {
      throw new AgentSessionsError('conflict', `${op} gave up after ${attempt} attempts under contention`, { source: this.name });
    }
    // Jitter spreads writers that lost the same race, so the next round has fewer losers.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 ** attempt, 25)));
  }

  // ---- reads ----------------------------------------------------------------------------------

  private visible(h: HeaderDoc | null, ref: ScopedRef, now: number): h is HeaderDoc {
    return h !== null && h.version > 0 && !isExpired(expiresMs(h), now) && canAccess(h.userId, ref.userId);
  }

  protected async doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    await this.ensureReady();
    const h = await this.header(headerKey(input.agentId, input.sessionId));
    if (!this.visible(h, input, input.now)) return null;
    return toHeader(input.touch ? await this.touch(h, input.now) : h);
  }

  /**
   * The header and the newest runs are read at once (one round trip of latency, two indexed
   * queries): the header decides visibility (owner, expiry, incarnation) and which runs are
   * committed.
   */
  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    await this.ensureReady();
    const range = input.beforeSeq === null ? {} : { seq: { $lt: input.beforeSeq } };
    const [h, docs] = await Promise.all([
      this.header(headerKey(input.agentId, input.sessionId)),
      this.runs
        .find({ agentId: input.agentId, sessionId: input.sessionId, ...range })
        .sort({ seq: -1 })
        .limit(input.limit + 1)
        .toArray(),
    ]);
    if (!this.visible(h, input, input.now)) return [];
    let runs = this.pick(h, docs, input.limit);
    if (runs.length < input.limit && docs.length > input.limit) {
      // Uncommitted or stale runs took places in the first read: ask for committed ones only.
      const upper = Math.min(h.lastSeq + 1, input.beforeSeq ?? Number.MAX_SAFE_INTEGER);
      const exact = await this.runs
        .find({ agentId: input.agentId, sessionId: input.sessionId, gen: h.gen, seq: { $lt: upper } })
        .sort({ seq: -1 })
        .limit(input.limit + 1)
        .toArray();
      runs = this.pick(h, exact, input.limit);
    }
    if (input.touch) await this.touch(h, input.now);
    return runs;
  }

  private pick(h: HeaderDoc, newestFirst: RunDoc[], limit: number): Run[] {
    const out: Run[] = [];
    for (const d of newestFirst) {
      if (out.length === limit) break;
      if (d.gen !== h.gen || d.seq > h.lastSeq) continue;
      const run = toRun(d, h.pop);
      if (run) out.push(run);
    }
    return out.reverse();
  }

  /** touchOnRead: refreshes the session's expiry (runs' first, as on every write). */
  private async touch(h: HeaderDoc, now: number): Promise<HeaderDoc> {
    const expiresAt = sessionExpiry(h.ttlMs, now);
    if (!expiresAt) return h;
    await this.exclusive(h, () => this.extend(h, expiresAt, now));
    return { ...h, expiresAt: h.expiresAt && h.expiresAt > expiresAt ? h.expiresAt : expiresAt };
  }

  private async extend(h: HeaderDoc, expiresAt: Date, now: number): Promise<void> {
    const raised = await this.raiseRunsExpiry(h, h.ttlMs, now);
    await this.sessions.updateOne(
      { _id: h._id, gen: h.gen },
      { $max: { expiresAt, ...(raised ? { runsExpireAt: raised } : {}) } },
    );
  }

  protected async doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
    await this.ensureReady();
    const and: Filter<HeaderDoc>[] = [{ $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date(input.now) } }] }];
    const filter: Filter<HeaderDoc> = { agentId: input.agentId, version: { $gt: 0 } };
    if (input.userId !== null) filter.userId = input.userId;
    if (input.updatedAfter !== null || input.updatedBefore !== null) {
      filter.updatedAt = {
        ...(input.updatedAfter !== null ? { $gte: input.updatedAfter } : {}),
        ...(input.updatedBefore !== null ? { $lt: input.updatedBefore } : {}),
      };
    }
    const c = input.cursor;
    if (c) and.push({ $or: [{ updatedAt: { $lt: c.updatedAt } }, { updatedAt: c.updatedAt, sessionId: { $lt: c.sessionId } }] });
    filter.$and = and;
    const docs = await this.sessions.find(filter).sort({ updatedAt: -1, sessionId: -1 }).limit(input.fetchLimit).toArray();
    return docs.map((d) => toHeader(normalizeHeader(d)));
  }

  // ---- header writes --------------------------------------------------------------------------

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    await this.ensureReady();
    return this.exclusive(input, () => this.create(input));
  }

  private async create(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    const key = headerKey(input.agentId, input.sessionId);
    const deadline = Date.now() + this.contentionTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.backoff(attempt, deadline, 'createSession');
      const h = await this.header(key);
      if (h && h.version > 0 && !isExpired(expiresMs(h), input.now)) {
        if (!canAccess(h.userId, input.userId)) throw this.notFound(input);
        return { session: toHeader(h), created: false };
      }
      const fresh = this.newHeader(input, input.ttlMs, input.metadata, input.state, 1);
      if (!h) {
        try {
          await this.sessions.insertOne(fresh);
          return { session: toHeader(fresh), created: true };
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          continue;
        }
      }
      // Expired, or a reservation no run was committed to yet: replace it by this session.
      const { _id, ...rest } = fresh;
      const res = await this.sessions.updateOne({ _id, gen: h.gen, version: h.version }, { $set: rest });
      if (res.matchedCount !== 1) continue;
      await this.runs.deleteMany({ agentId: h.agentId, sessionId: h.sessionId, gen: h.gen });
      return { session: toHeader(fresh), created: true };
    }
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    await this.ensureReady();
    return this.exclusive(input, () => this.update(input));
  }

  private async update(input: NormalizedUpdate): Promise<SessionHeader> {
    const key = headerKey(input.agentId, input.sessionId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const h = await this.header(key);
      if (!this.visible(h, input, input.now)) throw this.notFound(input);
      if (h.version !== input.expectedVersion) throw this.conflict(input, input.expectedVersion, h.version);
      const raised = await this.raiseRunsExpiry(h, h.ttlMs, input.now);
      const set: Partial<HeaderDoc> = {
        version: h.version + 1,
        updatedAt: Math.max(h.updatedAt, input.now),
        expiresAt: sessionExpiry(h.ttlMs, input.now),
      };
      if (raised) set.runsExpireAt = raised;
      if (input.metadata !== undefined) set.metadata = toJsonText(input.metadata);
      if (input.state !== undefined) set.state = toJsonText(input.state);
      if (input.summary !== undefined) set.summary = input.summary;
      const res = await this.sessions.updateOne({ _id: key, gen: h.gen, version: h.version }, { $set: set });
      if (res.matchedCount === 1) return toHeader({ ...h, ...set });
      // Another write got in first: the next read tells conflict from not_found.
    }
    throw new AgentSessionsError('conflict', `session '${input.sessionId}' keeps changing: read it again and retry`, {
      source: this.name,
    });
  }

  protected async doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    await this.ensureReady();
    return this.exclusive(input, () => this.remove(input));
  }

  private async remove(input: NormalizedWrite): Promise<boolean> {
    const key = headerKey(input.agentId, input.sessionId);
    for (;;) {
      const h = await this.header(key);
      if (!this.visible(h, input, input.now)) return false;
      const res = await this.sessions.deleteOne({ _id: key, gen: h.gen });
      if (res.deletedCount !== 1) continue; // replaced meanwhile: look again
      await this.runs.deleteMany({ agentId: h.agentId, sessionId: h.sessionId, gen: h.gen });
      return true;
    }
  }

  // ---- popItem ----------------------------------------------------------------------------------

  /**
   * Pops in two steps that anyone can finish: a compare-and-set records the intent in the
   * header (bumping the version, which also voids appends in flight), then the run loses its
   * last item (or goes) and the intent is cleared. Readers apply an unfinished intent.
   */
  protected async doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    await this.ensureReady();
    return this.exclusive(input, () => this.pop(input));
  }

  private async pop(input: NormalizedWrite): Promise<PoppedItem | null> {
    const key = headerKey(input.agentId, input.sessionId);
    const deadline = Date.now() + this.contentionTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.backoff(attempt, deadline, 'popItem');
      const h = await this.header(key);
      if (!this.visible(h, input, input.now)) return null;
      if (h.pop) {
        await this.completePop(h);
        continue;
      }
      const run = await this.runs.findOne(
        { agentId: input.agentId, sessionId: input.sessionId, gen: h.gen, seq: { $lte: h.lastSeq } },
        { sort: { seq: -1 } },
      );
      if (!run) return null;
      const intent: PopIntent = { id: newGen(), runId: run.runId, seq: run.seq, n: run.n };
      const raised = await this.raiseRunsExpiry(h, h.ttlMs, input.now);
      const set: Partial<HeaderDoc> = {
        pop: intent,
        version: h.version + 1,
        updatedAt: Math.max(h.updatedAt, input.now),
        expiresAt: sessionExpiry(h.ttlMs, input.now),
      };
      if (raised) set.runsExpireAt = raised;
      const res = await this.sessions.updateOne({ _id: key, gen: h.gen, version: h.version, pop: null }, { $set: set });
      if (res.matchedCount !== 1) continue;
      await this.completePop({ ...h, ...set });
      return { item: fromJsonText(run.items[run.n - 1] as string), runId: run.runId, seq: run.seq };
    }
  }

  /** Finishes a recorded pop; each step is guarded, so running it twice changes nothing. */
  private async completePop(h: HeaderDoc): Promise<void> {
    const p = h.pop as PopIntent;
    const where = { agentId: h.agentId, sessionId: h.sessionId, gen: h.gen, seq: p.seq, runId: p.runId, n: p.n };
    if (p.n > 1) await this.runs.updateOne(where, { $pop: { items: 1 }, $set: { n: p.n - 1 } });
    else await this.runs.deleteOne(where);
    await this.sessions.updateOne(
      { _id: h._id, gen: h.gen, 'pop.id': p.id } as Filter<HeaderDoc>,
      { $set: p.n === 1 ? { pop: null, lastSeq: p.seq - 1 } : { pop: null } },
    );
  }

  // ---- prune and close ----------------------------------------------------------------------------

  protected async doPrune(input: NormalizedPrune): Promise<PruneResult> {
    await this.ensureReady();
    const scope = input.agentId === null ? {} : { agentId: input.agentId };
    const now = new Date(input.now);
    let sessions = 0;
    let runs = 0;
    const expired = await this.sessions
      .find({ ...scope, expiresAt: { $lte: now } }, { projection: { _id: 1, agentId: 1, sessionId: 1, gen: 1 } })
      .toArray();
    for (const h of expired) {
      await this.exclusive(h, async () => {
        const res = await this.sessions.deleteOne({ _id: h._id, gen: h.gen, expiresAt: { $lte: now } });
        if (res.deletedCount !== 1) return;
        sessions += 1;
        runs += (await this.runs.deleteMany({ agentId: h.agentId, sessionId: h.sessionId, gen: h.gen })).deletedCount;
      });
    }
    // Runs never expire before their session, so a run past its own expiry belongs to a session
    // that is gone (removed by a TTL index, or pruned before its runs were).
    runs += (await this.runs.deleteMany({ ...scope, expiresAt: { $lte: now } })).deletedCount;
    if (input.runsCreatedBefore !== null) {
      runs += (await this.runs.deleteMany({ ...scope, createdAt: { $lt: input.runsCreatedBefore } })).deletedCount;
    }
    return { sessions, runs };
  }

  protected async doClose(): Promise<void> {
    const client = this.ownedClient;
    this.ownedClient = null;
    if (client) await client.close();
  }
}

/** The database named in a connection string's path, if any. */
export function databaseFromUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(url);
  const name = m?.[1] ? decodeURIComponent(m[1]) : '';
  return name === '' ? undefined : name;
}

function defaultDbName(client: MongoClient): string {
  const name = (client.options as { dbName?: string } | undefined)?.dbName;
  return name && name !== 'test' ? name : DEFAULT_DATABASE;
}

/**
 * What `createStore('mongodb://…')` from `@agent-sessions/core` calls: the same as
 * `MongoSessionStore.fromConnectionString(url, options)`.
 */
export function createStoreFromUrl(url: string, options: FromConnectionStringOptions = {}): MongoSessionStore {
  return MongoSessionStore.fromConnectionString(url, options);
}
