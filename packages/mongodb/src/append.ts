import { canAccess, isExpired, type AppendRunResult, type LostRace, type NormalizedAppend, type Run } from '@agent-sessions/core/store';
import type { Filter, ObjectId } from 'mongodb';
import { LOST_RACE, expiresMs, newHeader, putHeader, raiseRunsExpiry, readHeader, retry, type MongoContext } from './context.js';
import {
  USAGE_KEYS,
  headerKey,
  normalizeHeader,
  runsExpiry,
  sessionExpiry,
  slotOf,
  toHeader,
  toJsonText,
  toRun,
  type HeaderDoc,
  type RunDoc,
  type RunHeaderDelta,
  runDocument,
} from './documents.js';
import { isDuplicateKey } from './errors.js';
import { completePop } from './pop.js';

type StoredRun = RunDoc & { _id: ObjectId };

/** Where a run stands against the header read after it. */
type RunState = 'committed' | 'committable' | 'dead' | 'pop';

/**
 * A run is committed once the header's lastSeq reached it (in its incarnation), committable
 * while it sits right after lastSeq on the slot it was appended on, and dead otherwise. Dead is
 * for good: `lastSeq` only falls when a pop removes a run, and that moves the slot, so a run
 * appended on an older slot can never become committable again.
 */
export function runState(h: HeaderDoc | null, d: RunDoc): RunState {
  if (!h || d.gen !== h.gen) return 'dead';
  if (d.popped) return h.pop ? 'pop' : 'dead';
  if (d.seq <= h.lastSeq) return 'committed';
  if (d.base === slotOf(h) && d.seq === h.lastSeq + 1) return h.pop ? 'pop' : 'committable';
  return 'dead';
}

/** Matches the slot a run was appended on; slot 0 also matches headers written before slots. */
function onSlot(slot: number): number | { $in: (number | null)[] } {
  return slot === 0 ? { $in: [0, null] } : slot;
}

/**
 * The compare-and-set that makes `run` part of the history; anyone may run it. It holds while
 * the header is on the run's slot with `lastSeq` right before it and no pop in progress, so
 * header updates and trimming pops in between do not void it.
 */
export async function commit(ctx: MongoContext, h: HeaderDoc, run: RunDoc): Promise<HeaderDoc | null> {
  const ttlMs = run.ttl === undefined ? h.ttlMs : run.ttl;
  const raised = await raiseRunsExpiry(ctx, h, ttlMs, run.createdAt);
  const delta = run.header ?? {};
  // The title goes only to a header without one: the filter holds it (a rename in between makes
  // this commit miss, and the committer re-reads).
  const title = delta.title !== undefined && (h.title ?? null) === null ? delta.title : undefined;
  const set: Partial<HeaderDoc> = {
    lastSeq: run.seq,
    expiresAt: sessionExpiry(ttlMs, run.createdAt),
    ttlMs,
    ...(raised ? { runsExpireAt: raised } : {}),
    ...(title !== undefined ? { title } : {}),
    ...(delta.preview !== undefined ? { preview: delta.preview } : {}),
  };
  const inc: Record<string, number> = { version: 1 };
  for (const k of USAGE_KEYS) if (delta.usage?.[k]) inc[`usage.${k}`] = delta.usage[k];
  const filter = {
    _id: h._id,
    gen: h.gen,
    slot: onSlot(run.base),
    lastSeq: run.seq - 1,
    pop: null,
    // The title the caller saw (it may come from the store's header cache): a rename since misses.
    ...(delta.title !== undefined ? { title: h.title ?? null } : {}),
    // Under the lock nothing else writes the header, so the version pins exactly the header the
    // result below is computed from (it may come from the header cache).
    ...(ctx.atomicUpdates ? {} : { version: h.version }),
  } as Filter<HeaderDoc>;
  const update = { $set: set, $max: { updatedAt: run.createdAt }, $inc: inc };
  if (ctx.atomicUpdates) {
    // The header as this update left it, in the same command.
    const doc = await ctx.sessions.findOneAndUpdate(filter, update, { returnDocument: 'after' });
    return doc && normalizeHeader(doc);
  }
  // Under the session's lock nothing else writes the header: what it becomes is known.
  const res = await ctx.sessions.updateOne(filter, update);
  if (res.matchedCount !== 1) return null;
  const usage = { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, ...h.usage };
  for (const k of USAGE_KEYS) usage[k] += delta.usage?.[k] ?? 0;
  return { ...h, ...set, usage, updatedAt: Math.max(h.updatedAt, run.createdAt), version: h.version + 1 };
}

/**
 * The header, inserted as a hidden reservation (version 0) when there is none. An insert, not
 * an upsert: its success on the unique `_id` is what says that this document is the stored one
 * (an upsert race can tell several callers that they inserted).
 */
async function reserve(ctx: MongoContext, input: NormalizedAppend): Promise<HeaderDoc | null> {
  const key = headerKey(input.agentId, input.sessionId);
  const h = await readHeader(ctx, key);
  if (h) return h;
  // Expecting history on an absent session: refused before anything is written.
  if (input.expectedLastSeq !== null && input.expectedLastSeq > 0) throw ctx.staleHistory(input, input.expectedLastSeq, 0);
  const fresh = newHeader(input, ...newTtl(input), input.sessionMetadata, {}, 0);
  try {
    await ctx.sessions.insertOne(fresh);
    return fresh;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return readHeader(ctx, key);
  }
}

/** What the commit of this append does to the header besides lastSeq; undefined when nothing. */
function headerDelta(input: NormalizedAppend): RunHeaderDelta | undefined {
  const delta: RunHeaderDelta = {};
  if (input.title !== null) delta.title = input.title;
  if (input.preview !== null) delta.preview = input.preview;
  const usage: RunHeaderDelta['usage'] = {};
  for (const k of USAGE_KEYS) if (input.usageDelta[k]) usage[k] = input.usageDelta[k];
  if (Object.keys(usage).length > 0) delta.usage = usage;
  return Object.keys(delta).length > 0 ? delta : undefined;
}

/** The TTL and expiry of a session this append creates. */
function newTtl(input: NormalizedAppend): [number | null, number | null] {
  return input.expiresAt === undefined ? [input.defaultTtlMs, input.defaultExpiresAt] : [input.ttlMs ?? null, input.expiresAt];
}

/** Replaces an expired (or unseen reserved) incarnation by a new reservation, and drops its runs. */
async function restart(ctx: MongoContext, h: HeaderDoc, input: NormalizedAppend): Promise<void> {
  // A whole new document: nothing of the old incarnation (title, usage, an import's mark) stays.
  const fresh = newHeader(input, ...newTtl(input), input.sessionMetadata, {}, 0);
  await putHeader(ctx, h, fresh);
}

/**
 * Appends one run: read (or reserve) the header, insert the run at `lastSeq + 1` tagged with the
 * header's slot, commit it by a compare-and-set on the header. Each lost race (a unique index
 * refusal, a write conflict, a commit that did not match) re-reads and tries again within the
 * store's contention budget.
 */
export function append(ctx: MongoContext, input: NormalizedAppend): Promise<AppendRunResult> {
  const items = input.items.map(toJsonText);
  const delta = headerDelta(input);
  const build = (h: HeaderDoc): RunDoc => {
    const ttlMs = input.ttlMs === undefined ? h.ttlMs : input.ttlMs;
    const run = runDocument({ ...input, seq: h.lastSeq + 1, createdAt: input.now }, h.gen, slotOf(h), items, runsExpiry(ttlMs, input.now));
    // Absent, not undefined: the driver would store undefined as null, which means "never expires".
    if (input.ttlMs !== undefined) run.ttl = input.ttlMs;
    if (delta) run.header = delta;
    return run;
  };

  let mine: { id: ObjectId; run: RunDoc } | null = null;
  const key = headerKey(input.agentId, input.sessionId);
  // The header this store last saw saves the first attempt its read (see MongoContext.headers).
  let cached = ctx.headers.take(key);
  // Only to go ahead: anything it would refuse or restart on is read from the server first.
  if (
    cached &&
    ((input.expectedLastSeq !== null && cached.lastSeq !== input.expectedLastSeq) ||
      isExpired(expiresMs(cached), input.now) ||
      !canAccess(cached.userId, input.userId))
  ) {
    cached = undefined;
  }
  const done = (run: RunDoc, h: HeaderDoc): AppendRunResult => {
    ctx.headers.remember(h);
    return { run: toRun(run) as Run, created: true, session: toHeader(h) };
  };
  return retry(ctx, 'appendRun', async (): Promise<AppendRunResult | LostRace> => {
    const h = cached ?? (await reserve(ctx, input));
    cached = undefined;
    if (!h) return LOST_RACE;
    if (h.importing && !isExpired(expiresMs(h), input.now)) return LOST_RACE; // restoreSession is writing it: wait
    if (h.pop) {
      await completePop(ctx, h);
      return LOST_RACE;
    }
    if (isExpired(expiresMs(h), input.now) || (h.version === 0 && !canAccess(h.userId, input.userId))) {
      // Expired (or a reservation this caller may not see, so absent to it): start afresh.
      await restart(ctx, h, input);
      return LOST_RACE;
    }
    if (!canAccess(h.userId, input.userId)) {
      if (mine) await ctx.runs.deleteOne({ _id: mine.id });
      throw ctx.notFound(input);
    }

    if (mine) {
      // Our run is in but our commit did not match: someone committed it for us (and a pop may
      // have emptied it since), it can still be committed, or it never can and goes.
      const { id, run } = mine;
      const doc = await ctx.runs.findOne({ _id: id });
      const cur = await readHeader(ctx, h._id);
      if (cur?.importing) return LOST_RACE;
      if (!doc) {
        mine = null; // removed as dead: append again
        return LOST_RACE;
      }
      if (doc.popped && cur && doc.gen === cur.gen) return done(run, cur);
      const state = runState(cur, doc);
      if (state === 'committed' && cur) return done(run, cur);
      if (state === 'committable' && cur) {
        const next = await commit(ctx, cur, doc);
        if (next) return done(run, next);
      } else if (state === 'dead') {
        await ctx.runs.deleteOne({ _id: id });
        mine = null;
      } else if (state === 'pop' && cur) {
        await completePop(ctx, cur);
      }
      return LOST_RACE;
    }

    const lastSeq = h.version === 0 ? 0 : h.lastSeq;
    if (input.expectedLastSeq !== null && lastSeq !== input.expectedLastSeq) {
      // A retry of a stored run still gets it back; anything else is a stale history.
      const d = await ctx.runs.findOne({ agentId: input.agentId, sessionId: input.sessionId, runId: input.runId });
      const stored = d && runState(h, d) === 'committed' ? toRun(d, h.pop) : null;
      if (stored) return { run: stored, created: false, session: toHeader(h) };
      throw ctx.staleHistory(input, input.expectedLastSeq, lastSeq);
    }

    const run = build(h);
    let id: ObjectId;
    try {
      id = (await ctx.runs.insertOne({ ...run })).insertedId as ObjectId;
    } catch (err) {
      // A write conflict is thrown on to the retry (the insert did not happen); a duplicate key
      // means this run id is stored already, or another run holds this seq.
      if (!isDuplicateKey(err)) throw err;
      return settle(ctx, input, run);
    }
    mine = { id, run };
    const next = await commit(ctx, h, run);
    return next ? done(run, next) : LOST_RACE;
  });
}

/**
 * After a unique index refused our run: returns the stored run of this id if it is committed,
 * else helps whatever holds the places (commits a committable run, removes a dead one, finishes
 * a pop) and reports a lost race. Runs are read before the header, so a run from an incarnation
 * newer than the header read cannot be mistaken for a dead one.
 */
async function settle(ctx: MongoContext, input: NormalizedAppend, run: RunDoc): Promise<AppendRunResult | LostRace> {
  const found = (await ctx.runs
    .find({ agentId: input.agentId, sessionId: input.sessionId, $or: [{ seq: run.seq }, { runId: run.runId }] })
    .toArray()) as StoredRun[];
  const cur = await readHeader(ctx, headerKey(input.agentId, input.sessionId));
  if (cur?.importing) return LOST_RACE;
  for (const d of found) {
    const state = runState(cur, d);
    if (d.runId === input.runId && state === 'committed' && cur) {
      if (!canAccess(cur.userId, input.userId)) throw ctx.notFound(input);
      const stored = toRun(d, cur.pop);
      if (stored) return { run: stored, created: false, session: toHeader(cur) };
    }
    if (state === 'committable' && cur) await commit(ctx, cur, d);
    else if (state === 'dead') await ctx.runs.deleteOne({ _id: d._id });
    else if (state === 'pop' && cur) await completePop(ctx, cur);
  }
  return LOST_RACE;
}
