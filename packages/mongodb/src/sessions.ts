import {
  isExpired,
  canAccess,
  type NormalizedCreate,
  type NormalizedUpdate,
  type NormalizedWrite,
  type SessionHeader,
} from '@agent-sessions/core/store';
import { LOST_RACE, deleteRuns, expiresMs, newHeader, raiseRunsExpiry, readHeader, retry, visible, type MongoContext } from './context.js';
import { headerKey, sessionExpiry, toHeader, toJsonText, type HeaderDoc } from './documents.js';
import { isDuplicateKey } from './errors.js';

/** Creates an empty session, or returns the existing one. */
export function create(ctx: MongoContext, input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
  const key = headerKey(input.agentId, input.sessionId);
  return retry(ctx, 'createSession', async () => {
    const h = await readHeader(ctx, key);
    if (h && h.version > 0 && !isExpired(expiresMs(h), input.now)) {
      if (!canAccess(h.userId, input.userId)) throw ctx.notFound(input);
      return { session: toHeader(h), created: false };
    }
    const fresh = newHeader(input, input.ttlMs, input.expiresAt, input.metadata, input.state, 1);
    if (!h) {
      try {
        await ctx.sessions.insertOne(fresh);
        return { session: toHeader(fresh), created: true };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return LOST_RACE;
      }
    }
    // Expired, or a reservation no run was committed to yet: replace it by this session.
    const { _id, ...rest } = fresh;
    const res = await ctx.sessions.updateOne({ _id, gen: h.gen, version: h.version }, { $set: rest });
    if (res.matchedCount !== 1) return LOST_RACE;
    await deleteRuns(ctx, h);
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
    if (input.metadata !== undefined) set.metadata = toJsonText(input.metadata);
    if (input.state !== undefined) set.state = toJsonText(input.state);
    if (input.summary !== undefined) set.summary = input.summary;
    const res = await ctx.sessions.updateOne({ _id: key, gen: h.gen, version: h.version }, { $set: set });
    if (res.matchedCount === 1) return toHeader({ ...h, ...set });
    return LOST_RACE; // another write got in first: the next read tells conflict from not_found
  });
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
