import type { History, NormalizedList, NormalizedListRuns, NormalizedRead, NormalizedUserList, Run, SessionHeader } from '@agent-sessions/core/store';
import type { Filter } from 'mongodb';
import { exclusive, raiseRunsExpiry, readHeader, visible, type MongoContext } from './context.js';
import { MalformedDocumentError, headerKey, metadataTags, normalizeHeader, sessionExpiry, toHeader, toRun, visibleLastSeq, type HeaderDoc, type RunDoc } from './documents.js';

export async function getSession(ctx: MongoContext, input: NormalizedRead): Promise<SessionHeader | null> {
  const h = await readHeader(ctx, headerKey(input.agentId, input.sessionId));
  if (!visible(h, input, input.now)) return null;
  return toHeader(input.touch ? await touch(ctx, h, input.now) : h);
}

export async function listRuns(ctx: MongoContext, input: NormalizedListRuns): Promise<Run[]> {
  return (await readHistory(ctx, input)).runs;
}

/**
 * The header and the newest runs, asked for at once (two indexed queries on the wire, one round
 * trip of latency). The header decides what is visible: owner, expiry, incarnation, and which
 * runs are committed (`seq <= lastSeq`), so no run newer than the header comes back. Only when
 * the first read cannot give the window exactly (uncommitted or stale runs took places in it,
 * or a run committed after the runs were read) does an exact second query follow.
 */
export async function readHistory(ctx: MongoContext, input: NormalizedListRuns): Promise<History> {
  const range = input.beforeSeq === null ? {} : { seq: { $lt: input.beforeSeq } };
  const [h, docs] = await Promise.all([
    readHeader(ctx, headerKey(input.agentId, input.sessionId)),
    ctx.runs
      .find({ agentId: input.agentId, sessionId: input.sessionId, ...range }, { maxTimeMS: ctx.maxTimeMS })
      .sort({ seq: -1 })
      .limit(input.limit + 1)
      .toArray(),
  ]);
  if (!visible(h, input, input.now)) return { session: null, runs: [] };
  let runs = pick(h, docs, input.limit);
  // The newest run the window should end with: the header's, or the one before `beforeSeq`.
  const top = Math.min(visibleLastSeq(h), (input.beforeSeq ?? Number.MAX_SAFE_INTEGER) - 1);
  const short = runs.length < input.limit && docs.length > input.limit;
  if (top >= 1 && (runs[runs.length - 1]?.seq !== top || short)) {
    const exact = await ctx.runs
      .find({ agentId: input.agentId, sessionId: input.sessionId, gen: h.gen, seq: { $lte: top } }, { maxTimeMS: ctx.maxTimeMS })
      .sort({ seq: -1 })
      .limit(input.limit + 1)
      .toArray();
    runs = pick(h, exact, input.limit);
  }
  const session = input.touch ? await touch(ctx, h, input.now) : h;
  ctx.headers.remember(session);
  return { session: toHeader(session), runs };
}

function pick(h: HeaderDoc, newestFirst: RunDoc[], limit: number): Run[] {
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
async function touch(ctx: MongoContext, h: HeaderDoc, now: number): Promise<HeaderDoc> {
  const expiresAt = sessionExpiry(h.ttlMs, now);
  if (!expiresAt) return h;
  await exclusive(ctx, h, async () => {
    const raised = await raiseRunsExpiry(ctx, h, h.ttlMs, now);
    await ctx.sessions.updateOne({ _id: h._id, gen: h.gen }, { $max: { expiresAt, ...(raised ? { runsExpireAt: raised } : {}) } });
  });
  return { ...h, expiresAt: h.expiresAt && h.expiresAt > expiresAt ? h.expiresAt : expiresAt };
}

/**
 * One page of an agent's (or a user's) sessions, newest first. A header that cannot be read is
 * left out of the page: it fails only the calls that read that session.
 */
export async function listSessions(ctx: MongoContext, input: NormalizedList): Promise<SessionHeader[]> {
  const and: Filter<HeaderDoc>[] = [{ $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date(input.now) } }] }];
  const filter: Filter<HeaderDoc> = { agentId: input.agentId, version: { $gt: 0 } };
  if (input.userId !== null) filter.userId = input.userId;
  // Metadata is stored as text; its scalars are also tags, matched all at once (index agent_tags_updated).
  const tags = input.metadata === null ? [] : metadataTags(input.metadata);
  if (tags.length > 0) filter.tags = { $all: tags };
  if (input.updatedAfter !== null || input.updatedBefore !== null) {
    filter.updatedAt = {
      ...(input.updatedAfter !== null ? { $gte: input.updatedAfter } : {}),
      ...(input.updatedBefore !== null ? { $lt: input.updatedBefore } : {}),
    };
  }
  return readHeaderPages(
    input.fetchLimit,
    input.cursor,
    (c, want) => {
      const page: Filter<HeaderDoc>[] = [...and];
      if (c) page.push({ $or: [{ updatedAt: { $lt: c.updatedAt } }, { updatedAt: c.updatedAt, sessionId: { $lt: c.sessionId } }] });
      return ctx.sessions
        .find({ ...filter, $and: page }, { maxTimeMS: ctx.maxTimeMS })
        .sort({ updatedAt: -1, sessionId: -1 })
        .limit(want)
        .toArray();
    },
    (last) => (typeof last.updatedAt === 'number' && typeof last.sessionId === 'string' ? { updatedAt: last.updatedAt, sessionId: last.sessionId } : null),
  );
}

/**
 * Reads up to `limit` headers in pages, leaving malformed ones out (they fail only the calls that
 * read their session): a page short of them is topped up from after the last document read, at
 * most 10 reads. `read(after, want)` reads the next page; `next(last)` is the position after the
 * last document read, null when it cannot be told (the listing stops there).
 */
async function readHeaderPages<K>(
  limit: number,
  start: K | null,
  read: (after: K | null, want: number) => Promise<HeaderDoc[]>,
  next: (last: HeaderDoc) => K | null,
): Promise<SessionHeader[]> {
  const out: SessionHeader[] = [];
  let after = start;
  for (let reads = 0; out.length < limit && reads < 10; reads++) {
    const want = limit - out.length;
    const docs = await read(after, want);
    for (const d of docs) {
      try {
        out.push(toHeader(normalizeHeader(d)));
      } catch (err) {
        if (!(err instanceof MalformedDocumentError)) throw err;
      }
    }
    const last = docs[docs.length - 1];
    const position = last ? next(last) : null;
    if (docs.length < want || position === null) break;
    after = position;
  }
  return out;
}

/**
 * One page of a user's live sessions across agents (or of one), ordered by (agentId, sessionId),
 * from the index user_agent_session. Malformed headers are left out, as in listSessions.
 */
export async function listUserSessions(ctx: MongoContext, input: NormalizedUserList): Promise<SessionHeader[]> {
  const filter: Filter<HeaderDoc> = {
    userId: input.userId,
    version: { $gt: 0 },
    $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date(input.now) } }],
  };
  if (input.agentId !== null) filter.agentId = input.agentId;
  return readHeaderPages(
    input.limit,
    input.after,
    (a, want) => {
      const page: Filter<HeaderDoc> = { ...filter };
      if (a) page.$and = [{ $or: [{ agentId: { $gt: a.agentId } }, { agentId: a.agentId, sessionId: { $gt: a.sessionId } }] }];
      return ctx.sessions.find(page, { maxTimeMS: ctx.maxTimeMS }).sort({ agentId: 1, sessionId: 1 }).limit(want).toArray();
    },
    (last) => (typeof last.agentId === 'string' && typeof last.sessionId === 'string' ? { agentId: last.agentId, sessionId: last.sessionId } : null),
  );
}
