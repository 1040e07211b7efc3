import { randomBytes } from 'node:crypto';
import {
  AgentSessionsError,
  completeHeader,
  expiryFor,
  type JsonObject,
  type JsonValue,
  type Run,
  type RunStatus,
  type SessionHeader,
  type UsageTotals,
} from '@agent-sessions/core/store';

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
  /** The seq the summary covers (0: none). Headers written before it lack it: read as 0. */
  summarySeq?: number;
  /** Set by the first append that brings one, or by `renameSession`. Absent on older headers: null. */
  title?: string | null;
  /** The latest append's preview. Absent on older headers: null. */
  preview?: string | null;
  /** Usage totals of every committed run (`$inc` by each commit). Absent on older headers: zeros. */
  usage?: Partial<UsageTotals>;
  /**
   * `JSON.stringify([key, value])` for each top-level string, number or boolean of `metadata`:
   * what `listSessions({ metadata })` matches with `$all` (indexed), since metadata itself is text.
   */
  tags?: string[];
  /**
   * Set on the hidden header (version 0) of a session `restoreSession` is writing: appends and
   * creates wait for it; its `expiresAt` is the import's lease, so an abandoned one is pruned.
   */
  importing?: boolean;
  /** 0 for a header an append has reserved but not yet committed a run to: hidden from readers. */
  version: number;
  /**
   * The append slot: a run is committable only on the slot it was inserted on. Only a pop that
   * removes a whole run (lowering `lastSeq`) moves it, so header updates and pops that trim a run
   * never void an append in flight. Absent on headers written before it existed: read as 0.
   */
  slot?: number;
  lastSeq: number;
  /** A popItem in progress; anyone who sees it completes it before writing. */
  pop: PopIntent | null;
}

/** The header fields an append changes, carried by its run (see `RunDoc.header`). */
export interface RunHeaderDelta {
  title?: string;
  preview?: string;
  usage?: Partial<UsageTotals>;
}

export const USAGE_KEYS = ['requests', 'inputTokens', 'outputTokens', 'totalTokens'] as const;

/** The tags `listSessions({ metadata })` matches: one per top-level scalar of `metadata`. */
export function metadataTags(metadata: JsonObject): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out.push(JSON.stringify([k, v]));
  }
  return out;
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
  /** The header `slot` this run was appended on; it can be committed only on that slot. */
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
  /**
   * What this run's commit does to the header besides `lastSeq` (title if the header has none,
   * preview, usage totals): whoever commits the run applies it, exactly once.
   */
  header?: RunHeaderDelta;
  /** The TTL this append sets on the session; absent keeps the session's. */
  ttl?: number | null;
  /** Never earlier than the session's expiry, so a TTL index removes runs only after their session. */
  expiresAt: Date;
  /**
   * Set (with no items left) on a committed run a pop emptied: its writer, if still waiting,
   * learns that it was committed. Past `lastSeq`, so no reader sees it; the next append removes it.
   */
  popped?: boolean;
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
  const at = expiryFor(ttlMs === null ? null : 2 * ttlMs, now);
  return at === null || at >= NEVER.getTime() ? NEVER : new Date(at);
}

/** The session's expiry after a write at `now` (TTLs are bounded in core, so this is a valid date). */
export function sessionExpiry(ttlMs: number | null, now: number): Date | null {
  const at = expiryFor(ttlMs, now);
  return at === null ? null : new Date(at);
}

/** The slot a header is on (see `HeaderDoc.slot`). */
export function slotOf(h: HeaderDoc): number {
  return h.slot ?? 0;
}

export function toJsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

/**
 * A run's document in incarnation `gen` at `seq`, appended on header slot `base`: `items` are
 * already JSON text (an append encodes them once for all its attempts); usage and metadata
 * become JSON text here.
 */
export function runDocument(
  run: Pick<Run, 'runId' | 'seq' | 'createdAt' | 'status' | 'format' | 'usage' | 'metadata'> & { agentId: string; sessionId: string },
  gen: string,
  base: number,
  items: string[],
  expiresAt: Date,
): RunDoc {
  return {
    agentId: run.agentId,
    sessionId: run.sessionId,
    gen,
    runId: run.runId,
    seq: run.seq,
    base,
    createdAt: run.createdAt,
    status: run.status,
    format: run.format,
    items,
    n: items.length,
    usage: run.usage === null ? null : toJsonText(run.usage),
    metadata: run.metadata === null ? null : toJsonText(run.metadata),
    expiresAt,
  };
}

export function fromJsonText<T extends JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

/** A stored document this store cannot read: a typed error naming the session (and run). */
export class MalformedDocumentError extends AgentSessionsError {
  constructor(what: string, doc: { agentId?: unknown; sessionId?: unknown; seq?: unknown }, reason: string, cause?: unknown) {
    const at = typeof doc.seq === 'number' ? ` at seq ${doc.seq}` : '';
    super(
      'internal',
      `the stored ${what} of session '${String(doc.sessionId)}' of agent '${String(doc.agentId)}'${at} is malformed (${reason}); other sessions are not affected`,
      { source: 'mongodb', cause },
    );
    this.name = 'MalformedDocumentError';
  }
}

const isDate = (v: unknown): v is Date => v instanceof Date && !Number.isNaN(v.getTime());
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks the fields every read relies on and fills in the ones that may hold null. FerretDB
 * 1.24 drops null-valued fields from a `$setOnInsert` upsert, so a stored header can lack them;
 * MongoDB keeps them. A header that fails the check throws a MalformedDocumentError.
 */
export function normalizeHeader(h: HeaderDoc): HeaderDoc {
  const bad = (reason: string): never => {
    throw new MalformedDocumentError('header', h, reason);
  };
  if (typeof h.agentId !== 'string' || typeof h.sessionId !== 'string') bad('agentId or sessionId is not a string');
  if (typeof h.gen !== 'string') bad('gen is not a string');
  if (!isCount(h.version) || !isCount(h.lastSeq)) bad('version or lastSeq is not a whole number');
  if (h.expiresAt != null && !isDate(h.expiresAt)) bad('expiresAt is not a date');
  if (!isDate(h.runsExpireAt)) bad('runsExpireAt is not a date');
  if (typeof h.metadata !== 'string' || typeof h.state !== 'string') bad('metadata or state is not JSON text');
  if (typeof h.createdAt !== 'number' || typeof h.updatedAt !== 'number') bad('createdAt or updatedAt is not a number');
  if (h.title != null && typeof h.title !== 'string') bad('title is not a string');
  if (h.preview != null && typeof h.preview !== 'string') bad('preview is not a string');
  if (h.summarySeq != null && !isCount(h.summarySeq)) bad('summarySeq is not a whole number');
  const usage = { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  if (h.usage != null) {
    if (typeof h.usage !== 'object') bad('usage is not a document');
    for (const k of USAGE_KEYS) {
      const v = h.usage[k];
      if (v == null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(`usage.${k} is not a number`);
      usage[k] = v;
    }
  }
  return {
    ...h,
    userId: h.userId ?? null,
    expiresAt: h.expiresAt ?? null,
    ttlMs: h.ttlMs ?? null,
    summary: h.summary ?? null,
    summarySeq: h.summarySeq ?? 0,
    title: h.title ?? null,
    preview: h.preview ?? null,
    usage,
    pop: h.pop ?? null,
  };
}

/** The `lastSeq` readers see: a pop that is emptying the newest run has already taken it away. */
export function visibleLastSeq(h: HeaderDoc): number {
  return h.pop && h.pop.n === 1 ? h.pop.seq - 1 : h.lastSeq;
}

export function toHeader(h: HeaderDoc): SessionHeader {
  let metadata: JsonObject;
  let state: JsonObject;
  try {
    metadata = fromJsonText<JsonObject>(h.metadata);
    state = fromJsonText<JsonObject>(h.state);
  } catch (err) {
    throw new MalformedDocumentError('header', h, 'metadata or state is not valid JSON', err);
  }
  return completeHeader({
    agentId: h.agentId,
    sessionId: h.sessionId,
    userId: h.userId,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    expiresAt: h.expiresAt ? h.expiresAt.getTime() : null,
    ttlMs: h.ttlMs,
    metadata,
    state,
    summary: h.summary,
    summarySeq: h.summarySeq ?? 0,
    title: h.title ?? null,
    preview: h.preview ?? null,
    usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, ...h.usage },
    version: h.version,
    lastSeq: visibleLastSeq(h),
  });
}

/**
 * A stored run as the contract returns it; `pop` hides the item an unfinished popItem is taking.
 * Null for a run that is not there for readers (emptied by a pop). A run that cannot be read
 * throws a MalformedDocumentError naming agent, session and seq.
 */
export function toRun(r: RunDoc, pop: PopIntent | null = null): Run | null {
  if (r.popped) return null;
  try {
    if (!Array.isArray(r.items) || r.items.some((s) => typeof s !== 'string')) throw new Error('items is not an array of JSON texts');
    let items = r.items;
    if (pop && pop.seq === r.seq && pop.runId === r.runId && r.n === pop.n) {
      if (pop.n === 1) return null;
      items = items.slice(0, -1);
    }
    if (typeof r.runId !== 'string' || typeof r.format !== 'string') throw new Error('runId or format is not a string');
    return {
      runId: r.runId,
      seq: r.seq,
      createdAt: r.createdAt,
      status: r.status,
      format: r.format,
      items: items.map((s) => fromJsonText(s)),
      usage: r.usage == null ? null : fromJsonText<JsonObject>(r.usage),
      metadata: r.metadata == null ? null : fromJsonText<JsonObject>(r.metadata),
    };
  } catch (err) {
    throw new MalformedDocumentError('run', r, (err as Error).message, err);
  }
}
