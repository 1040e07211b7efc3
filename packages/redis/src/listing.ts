import {
  AgentSessionsError,
  isAfterCursor,
  isExpired,
  matchesMetadata,
  type NormalizedList,
  type NormalizedUserList,
  type SessionHeader,
} from '@agent-sessions/core/store';
import { decodeHeader, HEADER_FIELDS, type Reply } from './codec.js';
import type { RedisDb } from './db.js';

/** Index entries one listing call reads at most before it gives up (cleaning as it goes). */
export const MAX_LISTING_SCAN = 20_000;

interface Entry {
  sessionId: string;
  score: number;
}

const newestFirst = (a: SessionHeader, b: SessionHeader): number =>
  b.updatedAt - a.updatedAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0);

function entries(raw: string[]): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const text = raw[i + 1] as string;
    const n = Number(text);
    // Redis writes infinite scores as 'inf' / '-inf'.
    out.push({ sessionId: raw[i] as string, score: Number.isNaN(n) ? (text.startsWith('-') ? -Infinity : Infinity) : n });
  }
  return out;
}

/**
 * One page from an index, newest first. Candidates come from ZREVRANGEBYSCORE (time filters and
 * the cursor as score bounds), then each candidate's header is read and checked; the header
 * decides. Entries whose session is gone, expired or now owned by someone else are skipped and
 * removed; a header that cannot be read (malformed, or a key of another type) is skipped and
 * left alone, so one bad record never fails the listing.
 *
 * Reading continues until the page is full (plus every entry tied with its last one, so ties
 * are ordered by session id exactly as the cursor expects) or the index is exhausted. It
 * continues by score, never by offset: the entries it removes along the way would shift an
 * offset past live sessions. At most MAX_LISTING_SCAN entries per call; past that the call
 * fails with `unavailable` (the stale entries it passed are removed, so a retry goes further).
 *
 * A metadata filter is applied to the headers read, within these pages: no index holds
 * metadata values (every append moves a session's score, so an index per metadata value would
 * cost one more write per key per append). A filtered call reads on until its page is full or
 * the index ends; live sessions that do not match do not count against MAX_LISTING_SCAN (a
 * retry would pass them again), so its cost grows with the sessions it passes over.
 */
export async function listSessions(db: RedisDb, input: NormalizedList): Promise<SessionHeader[]> {
  const { keys } = db;
  const listed = input.userId === null ? keys.agentIndex(input.agentId) : keys.userIndex(input.agentId, input.userId);
  let max: number = input.updatedBefore === null ? Number.POSITIVE_INFINITY : input.updatedBefore;
  let maxOpen = input.updatedBefore !== null;
  const cursor = input.cursor;
  if (cursor && (input.updatedBefore === null || cursor.updatedAt < input.updatedBefore)) {
    max = cursor.updatedAt;
    maxOpen = false;
  }
  const min = input.updatedAfter === null ? '-inf' : String(input.updatedAfter);
  const filter = input.metadata !== null && Object.keys(input.metadata).length > 0 ? input.metadata : null;
  const batch = filter ? 1000 : Math.min(Math.max(input.fetchLimit * 2, 50), 1000);
  const found: SessionHeader[] = [];
  const repairs: Promise<void>[] = [];
  // Entries already read at the current upper score (the next read starts at that score again).
  let seenAtMax = new Set<string>();
  let scanned = 0;
  for (;;) {
    const top = max === Number.POSITIVE_INFINITY ? '+inf' : maxOpen ? `(${max}` : String(max);
    const want = batch + seenAtMax.size;
    const raw = await db.wrap(db.client.zrevrangebyscore(listed, top, min, 'WITHSCORES', 'LIMIT', 0, want));
    const read = entries(raw);
    const page = read.filter((e) => !(e.score === max && seenAtMax.has(e.sessionId)));
    scanned += page.length;
    const candidates = cursor ? page.filter((e) => isAfterCursor({ updatedAt: e.score, sessionId: e.sessionId }, cursor)) : page;
    const headers = await Promise.all(candidates.map((e) => readHeader(db, input.agentId, e.sessionId)));
    candidates.forEach((e, i) => {
      const h = headers[i];
      if (h === undefined) return; // unreadable: skipped, left for the session's own calls to report
      const expired = h !== null && isExpired(h.expiresAt, input.now);
      if (h === null || expired || (input.userId !== null && h.userId !== input.userId)) {
        // An expired session's entries go from both indexes (its owner is still known).
        const from = expired ? indexKeys(db, input.agentId, h.userId) : [listed];
        repairs.push(db.index('drop', from, e.sessionId, e.score, null).catch(() => {}));
        return;
      }
      // An index write that has not landed yet (cluster) or was lost with its client: catch up.
      if (h.updatedAt > e.score) {
        repairs.push(db.index('put', indexKeys(db, h.agentId, h.userId), h.sessionId, h.updatedAt, h.ttlMs).catch(() => {}));
      }
      // The header decides: a session written since the index was read may have left this
      // page's range (it then belongs to an earlier page, or to none under these filters).
      if (cursor && !isAfterCursor(h, cursor)) return;
      if (input.updatedAfter !== null && h.updatedAt < input.updatedAfter) return;
      if (input.updatedBefore !== null && h.updatedAt >= input.updatedBefore) return;
      if (filter && !matchesMetadata(h.metadata, filter)) {
        scanned -= 1;
        return;
      }
      found.push(h);
    });
    if (read.length < want) break; // the index is exhausted
    const last = read[read.length - 1] as Entry;
    if (found.length >= input.fetchLimit) {
      const boundary = found.map((h) => h.updatedAt).sort((a, b) => b - a)[input.fetchLimit - 1] as number;
      if (last.score < boundary) break;
    }
    if (scanned >= MAX_LISTING_SCAN) {
      await Promise.all(repairs);
      throw new AgentSessionsError(
        'unavailable',
        `listSessions read ${scanned} index entries of agent '${input.agentId}' without filling the page (most of them stale, now removed): call it again`,
        { source: 'redis' },
      );
    }
    if (last.score !== max || maxOpen) seenAtMax = new Set();
    max = last.score;
    maxOpen = false;
    for (const e of read) if (e.score === max) seenAtMax.add(e.sessionId);
  }
  await Promise.all(repairs);
  return found.sort(newestFirst).slice(0, input.fetchLimit);
}

/** Members of a user's index read per step (plus what the page still needs). */
const USER_BATCH = 100;

/**
 * One page of a user's sessions from the user's index across agents (members `agent \0
 * session`, score 0): ZRANGEBYLEX from just after `after` (within `agent \0` … for one agent),
 * then each candidate's header, which decides. Entries of sessions that are gone, expired or
 * now someone else's are skipped and removed; an unreadable header is skipped and left alone.
 * Order is by the UTF-8 bytes of agent and session id: JavaScript's string order, except
 * between characters U+E000–U+FFFF and characters above U+FFFF (paging is exact either way).
 */
export async function listUserSessions(db: RedisDb, input: NormalizedUserList): Promise<SessionHeader[]> {
  const key = db.keys.userSessions(input.userId);
  const byteMax = (a: string, b: string): string => (Buffer.compare(Buffer.from(a.slice(1)), Buffer.from(b.slice(1))) >= 0 ? a : b);
  let min = input.after === null ? '-' : `(${input.after.agentId}\0${input.after.sessionId}`;
  let max = '+';
  if (input.agentId !== null) {
    min = min === '-' ? `[${input.agentId}\0` : byteMax(min, `[${input.agentId}\0`);
    max = `(${input.agentId}\u0001`;
  }
  const found: SessionHeader[] = [];
  const repairs: Promise<void>[] = [];
  let stale = 0;
  for (;;) {
    const want = input.limit - found.length + USER_BATCH;
    const members = await db.wrap(db.client.zrangebylex(key, min, max, 'LIMIT', 0, want));
    const refs = members.map((m) => {
      const cut = m.indexOf('\0');
      return { member: m, agentId: m.slice(0, cut), sessionId: m.slice(cut + 1) };
    });
    const headers = await Promise.all(refs.map((r) => (r.agentId && r.sessionId ? readHeader(db, r.agentId, r.sessionId) : null)));
    for (let i = 0; i < refs.length && found.length < input.limit; i++) {
      const r = refs[i] as (typeof refs)[number];
      const h = headers[i];
      min = `(${r.member}`;
      if (h === undefined) continue;
      if (h === null || isExpired(h.expiresAt, input.now) || h.userId !== input.userId) {
        stale += 1;
        repairs.push(db.index('udrop', [key], r.member, 0, null).catch(() => {}));
        continue;
      }
      found.push(h);
    }
    if (found.length >= input.limit || members.length < want) break;
    if (stale >= MAX_LISTING_SCAN) {
      await Promise.all(repairs);
      throw new AgentSessionsError(
        'unavailable',
        `listUserSessions passed ${stale} stale entries of user '${input.userId}' without filling the page (now removed): call it again`,
        { source: 'redis' },
      );
    }
  }
  await Promise.all(repairs);
  return found;
}

/** A candidate's header; null when gone, undefined when it cannot be read (left alone). */
async function readHeader(db: RedisDb, agentId: string, sessionId: string): Promise<SessionHeader | null | undefined> {
  const ref = { agentId, sessionId };
  try {
    return decodeHeader((await db.wrap(db.client.hmget(db.keys.session(agentId, sessionId)[0], ...HEADER_FIELDS))) as Reply, ref);
  } catch (err) {
    if (err instanceof AgentSessionsError) return undefined; // malformed header
    if (err instanceof Error && /^WRONGTYPE/.test(err.message)) return undefined;
    throw err;
  }
}

export function indexKeys(db: RedisDb, agentId: string, userId: string | null): string[] {
  const keys = [db.keys.agentIndex(agentId)];
  if (userId !== null) keys.push(db.keys.userIndex(agentId, userId));
  return keys;
}
