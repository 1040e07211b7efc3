import { randomBytes } from 'node:crypto';
import type { JsonObject, JsonValue, Run, RunStatus, SessionHeader } from '@agent-sessions/core/store';

/**
 * A session header: one small document per session, whatever the length of its history.
 * User JSON (metadata, state) is kept as JSON text, so keys such as `$gt` or `a.b` are plain
 * data to every server (FerretDB rejects them as field names; MongoDB restricts them in updates).
 */
export interface HeaderDoc {
  /** `JSON.stringify([agentId, sessionId])`: unique per agent and session, never an operator. */
  _id: string;
  agentId: string;
  sessionId: string;
  userId: string | null;
  /**
   * The incarnation: a new random value each time the session is created anew (after delete or
   * expiry). Runs carry it, so runs of an earlier incarnation are never taken for this one's.
   */
  gen: string;
  createdAt: number;
  updatedAt: number;
  /** A BSON date, so a TTL index can delete the header; null never expires. */
  expiresAt: Date | null;
  ttlMs: number | null;
  /** A lower bound of every run's `expiresAt` in this incarnation: runs never expire before it. */
  runsExpireAt: Date;
  metadata: string;
  state: string;
  summary: string | null;
  /** 0 for a header an append has reserved but not yet committed a run to: hidden from readers. */
  version: number;
  lastSeq: number;
  /** A popItem in progress; anyone who sees it completes it before writing. */
  pop: PopIntent | null;
}

/** What a popItem is removing: the last of `n` items of the run at `seq`. */
export interface PopIntent {
  id: string;
  runId: string;
  seq: number;
  n: number;
}

/**
 * One run. It is inserted complete, at the next sequence number, and becomes part of the history
 * when the header's `lastSeq` reaches its `seq` (the commit); until then readers skip it.
 */
export interface RunDoc {
  agentId: string;
  sessionId: string;
  gen: string;
  runId: string;
  seq: number;
  /** The header version this run was appended on; it can be committed only at that version. */
  base: number;
  createdAt: number;
  status: RunStatus;
  format: string;
  /** One JSON text per item: `$pop`-able, and no key is ever a field name. */
  items: string[];
  /** `items.length`, the guard of popItem's compare-and-set. */
  n: number;
  usage: string | null;
  metadata: string | null;
  /** The TTL this append sets on the session; absent keeps the session's. */
  ttl?: number | null;
  /** Never earlier than the session's expiry, so a TTL index removes runs only after their session. */
  expiresAt: Date;
}

/** The expiry of runs of sessions that never expire (BSON dates reach year 9999). */
export const NEVER = new Date(Date.UTC(9999, 11, 31));

export function headerKey(agentId: string, sessionId: string): string {
  return JSON.stringify([agentId, sessionId]);
}

export function newGen(): string {
  return randomBytes(9).toString('base64url');
}

/**
 * How long runs live from a write at `now`: twice the TTL, so their expiry is pushed forward
 * (one `updateMany` over the session's runs) at most once per TTL, not on every write.
 */
export function runsExpiry(ttlMs: number | null, now: number): Date {
  return ttlMs === null ? NEVER : new Date(now + 2 * ttlMs);
}

export function sessionExpiry(ttlMs: number | null, now: number): Date | null {
  return ttlMs === null ? null : new Date(now + ttlMs);
}

export function toJsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

export function fromJsonText<T extends JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

/**
 * Fills in the fields that may hold null. FerretDB 1.24 drops null-valued fields from a
 * `$setOnInsert` upsert, so a stored header can lack them; MongoDB keeps them.
 */
export function normalizeHeader(h: HeaderDoc): HeaderDoc {
  return {
    ...h,
    userId: h.userId ?? null,
    expiresAt: h.expiresAt ?? null,
    ttlMs: h.ttlMs ?? null,
    summary: h.summary ?? null,
    pop: h.pop ?? null,
  };
}

/** The `lastSeq` readers see: a pop that is emptying the newest run has already taken it away. */
export function visibleLastSeq(h: HeaderDoc): number {
  return h.pop && h.pop.n === 1 ? h.pop.seq - 1 : h.lastSeq;
}

export function toHeader(h: HeaderDoc): SessionHeader {
  return {
    agentId: h.agentId,
    sessionId: h.sessionId,
    userId: h.userId,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    expiresAt: h.expiresAt ? h.expiresAt.getTime() : null,
    ttlMs: h.ttlMs,
    metadata: fromJsonText<JsonObject>(h.metadata),
    state: fromJsonText<JsonObject>(h.state),
    summary: h.summary,
    version: h.version,
    lastSeq: visibleLastSeq(h),
  };
}

/** A stored run as the contract returns it; `pop` hides the item an unfinished popItem is taking. */
export function toRun(r: RunDoc, pop: PopIntent | null = null): Run | null {
  let items = r.items;
  if (pop && pop.seq === r.seq && pop.runId === r.runId && r.n === pop.n) {
    if (pop.n === 1) return null;
    items = items.slice(0, -1);
  }
  return {
    runId: r.runId,
    seq: r.seq,
    createdAt: r.createdAt,
    status: r.status,
    format: r.format,
    items: items.map((s) => fromJsonText(s)),
    usage: r.usage === null ? null : fromJsonText<JsonObject>(r.usage),
    metadata: r.metadata === null ? null : fromJsonText<JsonObject>(r.metadata),
  };
}
