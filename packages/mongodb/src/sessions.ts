import {
  isExpired,
  canAccess,
  type NormalizedCreate,
  type NormalizedPatch,
  type NormalizedUpdate,
  type NormalizedWrite,
  type SessionHeader,
} from '@agent-sessions/core/store';
import { LOST_RACE, deleteRuns, expiresMs, newHeader, putHeader, raiseRunsExpiry, readHeader, retry, visible, type MongoContext } from './context.js';
import type { Filter } from 'mongodb';
import { headerKey, metadataTags, normalizeHeader, sessionExpiry, toHeader, toJsonText, type HeaderDoc } from './documents.js';

/** Creates an empty session, or returns the existing one. */
export function create(ctx: MongoContext, input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
  const key = headerKey(input.agentId, input.sessionId);
  return retry(ctx, 'createSession', async () => {
    const h = await readHeader(ctx, key);
    if (h && h.version > 0 && !isExpired(expiresMs(h), input.now)) {
      if (!canAccess(h.userId, input.userId)) throw ctx.notFound(input);
      return { session: toHeader(h), created: false };
    }
    if (h?.importing && !isExpired(expiresMs(h), input.now)) return LOST_RACE; // restoreSession is writing it: wait
    const fresh = newHeader(input, input.ttlMs, input.expiresAt, input.metadata, input.state, 1);
    // Absent, expired, or a reservation no run was committed to yet: replaced by this session.
    if ((await putHeader(ctx, h, fresh)) === LOST_RACE) return LOST_RACE;
    return { session: toHeader(fresh), created: true };
  });
}

/** Replaces metadata, state and/or summary when `expectedVersion` is current. */
export function update(ctx: MongoContext, input: NormalizedUpdate): Promise<SessionHeader> {
  const key = headerKey(input.agentId, input.sessionId);
  return retry(ctx, 'updateSession', async () => {
    const h = await readHeader(ctx, key);
    if (!visible(h, input, input.now)) throw ctx.notFound(input);
    if (h.version !== input.expectedVersion) throw ctx.conflict(input, input.expectedVersion, h.version);
    const raised = await raiseRunsExpiry(ctx, h, h.ttlMs, input.now);
    const set: Partial<HeaderDoc> = {
      version: h.version + 1,
      updatedAt: Math.max(h.updatedAt, input.now),
      expiresAt: sessionExpiry(h.ttlMs, input.now),
    };
    if (raised) set.runsExpireAt = raised;
    if (input.metadata !== undefined) {
      set.metadata = toJsonText(input.metadata);
      set.tags = metadataTags(input.metadata);
    }
    if (input.summarySeq !== undefined) set.summarySeq = input.summarySeq;
    if (input.state !== undefined) set.state = toJsonText(input.state);
    if (input.summary !== undefined) set.summary = input.summary;
    const res = await ctx.sessions.updateOne({ _id: key, gen: h.gen, version: h.version }, { $set: set });
    if (res.matchedCount === 1) return toHeader({ ...h, ...set });
    return LOST_RACE; // another write got in first: the next read tells conflict from not_found
  });
}

/**
 * renameSession / touchSession: one conditional write, no read first. The filter is what a read
 * would check (committed, not expired, this caller's), so an absent, expired or foreign session
 * matches nothing and is `not_found`. Refreshing the expiry needs the session's TTL, which an
 * update operator cannot add to `now` on every server (FerretDB has no pipeline updates): a session
 * with a TTL gets a second write, `$max` on `expiresAt` (runs' expiry raised first when needed).
 */
export async function patch(ctx: MongoContext, input: NormalizedPatch): Promise<SessionHeader> {
  const now = new Date(input.now);
  const filter: Filter<HeaderDoc> = {
    _id: headerKey(input.agentId, input.sessionId),
    version: { $gt: 0 },
    $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }],
  };
  if (input.userId !== null) filter.userId = input.userId;
  const doc = await ctx.sessions.findOneAndUpdate(
    filter,
    {
      $inc: { version: 1 },
      ...(input.title !== undefined ? { $set: { title: input.title } } : {}),
      ...(input.touch ? { $max: { updatedAt: input.now } } : {}),
    },
    { returnDocument: 'after', maxTimeMS: ctx.maxTimeMS },
  );
  if (!doc) throw ctx.notFound(input);
  let h = normalizeHeader(doc);
  const expiresAt = sessionExpiry(h.ttlMs, input.now);
  if (expiresAt && h.expiresAt && h.expiresAt < expiresAt) {
    const raised = await raiseRunsExpiry(ctx, h, h.ttlMs, input.now);
    await ctx.sessions.updateOne({ _id: h._id, gen: h.gen }, { $max: { expiresAt, ...(raised ? { runsExpireAt: raised } : {}) } });
    h = { ...h, expiresAt, ...(raised ? { runsExpireAt: raised } : {}) };
  }
  return toHeader(h);
}

/**
 * Deletes a session: first its header is marked expired (one update: the session is gone at once
 * for every reader, listing and append), then its runs go in bounded batches, then the header.
 * A huge session whose batches outlast half the call's time bound is left expired with the rest
 * of its runs, and `prune()` finishes it; the call still reports the session deleted.
 */
export function remove(ctx: MongoContext, input: NormalizedWrite, budgetMs: number): Promise<boolean> {
  const key = headerKey(input.agentId, input.sessionId);
  return retry(ctx, 'deleteSession', async () => {
    const h = await readHeader(ctx, key);
    if (!visible(h, input, input.now)) return false;
    const gone = new Date(0);
    const res = await ctx.sessions.updateOne({ _id: key, gen: h.gen, version: h.version }, { $set: { expiresAt: gone }, $inc: { version: 1 } });
    if (res.matchedCount !== 1) return LOST_RACE; // written meanwhile: look again
    const deadline = Date.now() + budgetMs;
    if ((await deleteRuns(ctx, h, deadline)) !== null) await ctx.sessions.deleteOne({ _id: key, gen: h.gen, expiresAt: gone });
    return true;
  });
}
