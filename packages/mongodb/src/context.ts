import {
  LOST_RACE,
  canAccess,
  isExpired,
  retryContention,
  type AgentSessionsError,
  type ContentionOptions,
  type JsonObject,
  type LostRace,
  type ScopedRef,
} from '@agent-sessions/core/store';
import type { Collection, Filter } from 'mongodb';
import { NEVER, headerKey, metadataTags, newGen, normalizeHeader, runsExpiry, sessionExpiry, type HeaderDoc, type RunDoc } from './documents.js';
import { isDuplicateKey, isLostRace } from './errors.js';
import type { DeletePacer } from './batches.js';
import { withLock, type LockDoc } from './locks.js';

/** What the store's operations share: collections, what setup found, and the store's errors. */
export interface MongoContext {
  readonly name: string;
  readonly sessions: Collection<HeaderDoc>;
  readonly runs: Collection<RunDoc>;
  readonly locks: Collection<LockDoc>;
  /** Known after setup: whether conditional single-document updates are atomic on the server. */
  readonly atomicUpdates: boolean;
  readonly lockLeaseMs: number;
  /** The retry budget of one call under contention (attempts and time). */
  readonly contention: Required<ContentionOptions>;
  /** Server-side bound of one command (`maxTimeMS`). */
  readonly maxTimeMS: number;
  /** Sizes the batches of bulk deletes (a whole session's runs, prune) to about 100 ms per command. */
  readonly deletes: DeletePacer;
  /**
   * How long a write may spend inline removing runs of an incarnation it replaced (an append to
   * an expired session, a create or import over one); the rest is left to collisions and prune().
   */
  readonly inlineCleanupMs: number;
  /**
   * The last committed header this store read or wrote per session (bounded). Only an append's
   * first attempt uses it, in place of reading the header: its run insert and its commit are
   * conditional on exactly what the header says, so a stale entry costs a retry, never a wrong
   * write. Readers never use it.
   */
  readonly headers: HeaderCache;
  notFound(ref: ScopedRef): AgentSessionsError;
  exists(ref: ScopedRef): AgentSessionsError;
  conflict(ref: ScopedRef, expected: number, actual: number): AgentSessionsError;
  staleHistory(ref: ScopedRef, expected: number, actual: number): AgentSessionsError;
  /** Counts a lost race (see `MongoStore.contention`). */
  lostRace(op: string, err: unknown): void;
}

export const expiresMs = (h: HeaderDoc): number | null => (h.expiresAt ? h.expiresAt.getTime() : null);

/** A header readers may see: committed to (version > 0), not expired, and this caller's. */
export function visible(h: HeaderDoc | null, ref: ScopedRef, now: number): h is HeaderDoc {
  return h !== null && h.version > 0 && !isExpired(expiresMs(h), now) && canAccess(h.userId, ref.userId);
}

export async function readHeader(ctx: MongoContext, key: string): Promise<HeaderDoc | null> {
  const h = await ctx.sessions.findOne({ _id: key }, { maxTimeMS: ctx.maxTimeMS });
  return h && normalizeHeader(h);
}

/**
 * Runs `attempt` until it does not lose a race, with full-jitter backoff and the store's budget
 * in attempts and time (then `conflict`). Duplicate keys and write conflicts thrown by an
 * attempt count as lost races too: such a write did not happen, and the next attempt re-reads.
 */
export function retry<T>(ctx: MongoContext, op: string, attempt: (n: number) => Promise<T | LostRace>): Promise<T> {
  return retryContention(attempt, { op, source: ctx.name, isLostRace, onLostRace: (_n, err) => ctx.lostRace(op, err) }, ctx.contention);
}

export { LOST_RACE };

/** Runs a write alone on its session where the server cannot compare-and-set atomically. */
export function exclusive<T>(ctx: MongoContext, ref: { agentId: string; sessionId: string }, fn: () => Promise<T>): Promise<T> {
  if (ctx.atomicUpdates) return fn();
  return withLock(ctx, headerKey(ref.agentId, ref.sessionId), fn);
}

/** A new header document (a new incarnation: a fresh `gen`, slot 0). */
export function newHeader(
  ref: ScopedRef & { now: number },
  ttlMs: number | null,
  expiresAt: number | null,
  metadata: JsonObject,
  state: JsonObject,
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
    expiresAt: expiresAt === null ? null : new Date(expiresAt),
    ttlMs,
    runsExpireAt: runsExpiry(ttlMs, ref.now),
    metadata: JSON.stringify(metadata),
    tags: metadataTags(metadata),
    state: JSON.stringify(state),
    summary: null,
    summarySeq: 0,
    title: null,
    preview: null,
    usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    version,
    slot: 0,
    lastSeq: 0,
    pop: null,
  };
}

/**
 * Keeps every run's expiry at or after its session's: when a write moves the session's expiry
 * past the runs' recorded lower bound, all runs of the incarnation get twice the TTL (`$max`,
 * so never shortened). Done before the header write, so a crash in between is harmless.
 */
export async function raiseRunsExpiry(ctx: MongoContext, h: HeaderDoc, ttlMs: number | null, now: number): Promise<Date | null> {
  const needed = sessionExpiry(ttlMs, now) ?? NEVER;
  if (h.runsExpireAt.getTime() >= needed.getTime()) return null;
  const target = runsExpiry(ttlMs, now);
  await ctx.runs.updateMany({ agentId: h.agentId, sessionId: h.sessionId, gen: h.gen }, { $max: { expiresAt: target } });
  return target;
}

/**
 * Deletes what `filter` matches in batches sized by `ctx.deletes` (ids first, then those ids), so a
 * huge session or a large prune never holds the server in one long command. Returns how many went,
 * or null when `deadline` came first.
 */
export async function deleteBatched(ctx: MongoContext, filter: Filter<RunDoc>, deadline = Infinity): Promise<number | null> {
  let deleted = 0;
  for (;;) {
    if (Date.now() > deadline) return null;
    const size = ctx.deletes.size;
    const ids = await ctx.runs.find(filter, { projection: { _id: 1 }, maxTimeMS: ctx.maxTimeMS }).limit(size).toArray();
    if (ids.length === 0) return deleted;
    const t0 = performance.now();
    deleted += (await ctx.runs.deleteMany({ _id: { $in: ids.map((d) => d._id) } })).deletedCount;
    ctx.deletes.record(ids.length, performance.now() - t0);
    if (ids.length < size) return deleted;
  }
}

/**
 * Puts `doc` in place of the header `h` read before (null: there was none): an insert, or a
 * replace conditional on h's incarnation and version. The winner drops h's runs within a small
 * time box; the rest are dead (another gen) and go with the appends they collide with, prune()
 * or a TTL index, so a huge expired session never holds the write. LOST_RACE when another writer
 * got there first.
 */
export async function putHeader(ctx: MongoContext, h: HeaderDoc | null, doc: HeaderDoc): Promise<true | typeof LOST_RACE> {
  if (!h) {
    try {
      await ctx.sessions.insertOne(doc);
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return LOST_RACE;
    }
  }
  const res = await ctx.sessions.replaceOne({ _id: doc._id, gen: h.gen, version: h.version }, doc);
  if (res.matchedCount !== 1) return LOST_RACE;
  await deleteRuns(ctx, h, Date.now() + ctx.inlineCleanupMs);
  return true;
}

/** Deletes the runs of one incarnation of a session, in batches; null when `deadline` came first. */
export function deleteRuns(
  ctx: MongoContext,
  h: Pick<HeaderDoc, 'agentId' | 'sessionId' | 'gen'>,
  deadline = Infinity,
): Promise<number | null> {
  return deleteBatched(ctx, { agentId: h.agentId, sessionId: h.sessionId, gen: h.gen }, deadline);
}

/** See `MongoContext.headers`. */
export class HeaderCache {
  private readonly map = new Map<string, HeaderDoc>();
  constructor(private readonly max = 1000) {}

  /** Keeps a committed header with nothing in progress on it. */
  remember(h: HeaderDoc): void {
    if (h.version === 0 || h.pop || h.importing) return;
    this.map.delete(h._id);
    this.map.set(h._id, h);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }

  /** The entry for `key`, taken out (an append uses it once). */
  take(key: string): HeaderDoc | undefined {
    const h = this.map.get(key);
    this.map.delete(key);
    return h;
  }

  forget(key: string): void {
    this.map.delete(key);
  }
}
