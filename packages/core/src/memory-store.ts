import { isAfterCursor } from './cursor.js';
import { canAccess, expiryFor, isExpired, type NormalizedAppend, type NormalizedCreate, type NormalizedImport, type NormalizedList, type NormalizedListRuns, type NormalizedPatch, type NormalizedPrune, type NormalizedRead, type NormalizedRewriteRun, type NormalizedRewriteText, type NormalizedUpdate, type NormalizedUserList, type NormalizedWrite, type ScopedRef, type StoreCapabilities, type StoreOptions, type StoredAppendResult, type StoredHeader, type StoredHistory } from './kernel/normalized.js';
import { SessionStore } from './session-store.js';
import type { JsonObject, JsonValue, PoppedItem, PruneResult, Run, SessionHeader } from './types.js';

interface Entry {
  header: SessionHeader;
  runs: Run[];
  byRunId: Map<string, Run>;
}

export type MemoryStoreOptions = StoreOptions;

const newestFirst = (a: SessionHeader, b: SessionHeader): number =>
  b.updatedAt - a.updatedAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0);

/** True when `metadata` has every key of `filter` with the same value. */
export function matchesMetadata(metadata: JsonObject, filter: { [key: string]: string | number | boolean } | null): boolean {
  if (!filter) return true;
  return Object.entries(filter).every(([k, v]) => Object.hasOwn(metadata, k) && metadata[k] === v);
}

/**
 * A deep copy of what this store keeps (plain JSON, and headers of JSON values): what
 * structuredClone would give, several times faster on a turn's runs.
 */
function copy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const length = value.length;
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) out[i] = copy(value[i] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = copy((value as Record<string, unknown>)[k]);
    // Assignment would set the prototype for __proto__: that key is defined as an own one.
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out as T;
}

/** Equal as stored JSON (items are plain JSON copies). */
function sameJson(a: readonly JsonValue[], b: readonly JsonValue[]): boolean {
  return a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
}

/**
 * Keeps everything in this process: the default store, for tests and examples. Values are
 * copied in and out, so nothing a caller holds can change what is stored.
 */
export class MemoryStore extends SessionStore {
  readonly name = 'memory';
  readonly capabilities: StoreCapabilities = { nativeTtl: false };
  // Keyed by agent and session id joined by NUL, which ids can never contain.
  private readonly sessions = new Map<string, Entry>();

  constructor(options: MemoryStoreOptions = {}) {
    super(options);
  }

  private key(agentId: string, sessionId: string): string {
    return `${agentId}\u0000${sessionId}`;
  }

  /** The live entry this caller may see, or undefined. */
  private visible(ref: ScopedRef, now: number): Entry | undefined {
    const e = this.sessions.get(this.key(ref.agentId, ref.sessionId));
    if (!e || isExpired(e.header.expiresAt, now) || !canAccess(e.header.userId, ref.userId)) return undefined;
    return e;
  }

  private newHeader(ref: ScopedRef, now: number, ttlMs: number | null, expiresAt: number | null): SessionHeader {
    return {
      agentId: ref.agentId,
      sessionId: ref.sessionId,
      userId: ref.userId,
      createdAt: now,
      updatedAt: now,
      expiresAt,
      ttlMs,
      metadata: {},
      state: {},
      summary: null,
      summarySeq: 0,
      version: 0,
      lastSeq: 0,
      title: null,
      preview: null,
      runCount: 0,
      usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    };
  }

  /** A write at `now`: version, updatedAt (never backwards) and expiry. */
  private bump(h: SessionHeader, now: number): void {
    h.version += 1;
    h.updatedAt = Math.max(h.updatedAt, now);
    h.expiresAt = expiryFor(h.ttlMs, now);
  }

  protected async doAppendRun(input: NormalizedAppend): Promise<StoredAppendResult> {
    const key = this.key(input.agentId, input.sessionId);
    const found = this.sessions.get(key);
    const live = found && !isExpired(found.header.expiresAt, input.now) ? found : undefined;
    if (live && !canAccess(live.header.userId, input.userId)) throw this.notFound(input);
    const existing = live?.byRunId.get(input.runId);
    if (live && existing) return { run: copy(existing), created: false, session: copy(live.header) };
    const lastSeq = live?.header.lastSeq ?? 0;
    if (input.expectedLastSeq !== null && lastSeq !== input.expectedLastSeq) {
      throw this.staleHistory(input, input.expectedLastSeq, lastSeq);
    }
    let e = live;
    if (!e) {
      const ttlMs = input.ttlMs === undefined ? input.defaultTtlMs : input.ttlMs;
      const header = this.newHeader(input, input.now, ttlMs, input.expiresAt === undefined ? input.defaultExpiresAt : input.expiresAt);
      header.metadata = copy(input.sessionMetadata);
      e = { header, runs: [], byRunId: new Map() };
      this.sessions.set(key, e);
    }
    const h = e.header;
    const run: Run = {
      runId: input.runId,
      seq: h.lastSeq + 1,
      createdAt: input.now,
      status: input.status,
      format: input.format,
      items: input.items,
      usage: input.usage,
      metadata: input.metadata,
    };
    e.runs.push(run);
    e.byRunId.set(run.runId, run);
    if (input.ttlMs !== undefined) h.ttlMs = input.ttlMs;
    h.lastSeq = run.seq;
    h.runCount = run.seq;
    if (h.title === null && input.title !== null) h.title = input.title;
    if (input.preview !== null) h.preview = input.preview;
    for (const k of ['requests', 'inputTokens', 'outputTokens', 'totalTokens'] as const) h.usage[k] += input.usageDelta[k];
    this.bump(h, input.now);
    return { run: copy(run), created: true, session: copy(h) };
  }

  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    const e = this.visible(input, input.now);
    if (!e) return [];
    if (input.touch) e.header.expiresAt = expiryFor(e.header.ttlMs, input.now);
    return this.window(e, input);
  }

  /** Copies of the last `limit` runs before `beforeSeq` (or the newest), oldest first. */
  private window(e: Entry, input: NormalizedListRuns): Run[] {
    // Runs are kept in seq order; binary search keeps the read proportional to `limit`.
    let end = e.runs.length;
    if (input.beforeSeq !== null) {
      let lo = 0;
      let hi = e.runs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((e.runs[mid] as Run).seq < input.beforeSeq) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    const out: Run[] = [];
    for (let i = Math.max(0, end - input.limit); i < end; i++) out.push(copy(e.runs[i] as Run));
    return out;
  }

  protected override async doReadHistory(input: NormalizedListRuns): Promise<StoredHistory> {
    // The default asks doGetSession and doListRuns; here both come from one lookup.
    const e = this.visible(input, input.now);
    if (!e) return { session: null, runs: [] };
    if (input.touch) e.header.expiresAt = expiryFor(e.header.ttlMs, input.now);
    return { session: copy(e.header), runs: this.window(e, input) };
  }

  protected async doGetSession(input: NormalizedRead): Promise<StoredHeader | null> {
    const e = this.visible(input, input.now);
    if (!e) return null;
    if (input.touch) e.header.expiresAt = expiryFor(e.header.ttlMs, input.now);
    return copy(e.header);
  }

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: StoredHeader; created: boolean }> {
    const key = this.key(input.agentId, input.sessionId);
    const e = this.sessions.get(key);
    if (e && !isExpired(e.header.expiresAt, input.now)) {
      if (!canAccess(e.header.userId, input.userId)) throw this.notFound(input);
      return { session: copy(e.header), created: false };
    }
    const header = this.newHeader(input, input.now, input.ttlMs, input.expiresAt);
    header.metadata = input.metadata;
    header.state = input.state;
    header.version = 1;
    this.sessions.set(key, { header, runs: [], byRunId: new Map() });
    return { session: copy(header), created: true };
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<StoredHeader> {
    const e = this.visible(input, input.now);
    if (!e) throw this.notFound(input);
    const h = e.header;
    if (h.version !== input.expectedVersion) throw this.conflict(input, input.expectedVersion, h.version);
    if (input.metadata !== undefined) h.metadata = input.metadata;
    if (input.state !== undefined) h.state = input.state;
    if (input.summary !== undefined) h.summary = input.summary;
    if (input.summarySeq !== undefined) h.summarySeq = input.summarySeq;
    this.bump(h, input.now);
    return copy(h);
  }

  protected override async doPatchSession(input: NormalizedPatch): Promise<StoredHeader> {
    const e = this.visible(input, input.now);
    if (!e) throw this.notFound(input);
    const h = e.header;
    if (input.title !== undefined) h.title = input.title;
    h.version += 1;
    if (input.touch) h.updatedAt = Math.max(h.updatedAt, input.now);
    h.expiresAt = expiryFor(h.ttlMs, input.now);
    return copy(h);
  }

  protected override async doRewriteRun(input: NormalizedRewriteRun): Promise<boolean> {
    const e = this.visible(input, input.now);
    const run = e?.byRunId.get(input.runId);
    if (!e || !run || run.seq !== input.seq || run.seq > e.header.lastSeq || !sameJson(run.items, input.expected)) return false;
    // In place: the run object is shared by `runs` and `byRunId`.
    run.items = input.items;
    return true;
  }

  protected override async doRewriteText(input: NormalizedRewriteText): Promise<boolean> {
    const e = this.visible(input, input.now);
    if (!e || e.header.title !== input.expected.title || e.header.preview !== input.expected.preview) return false;
    e.header.title = input.title;
    e.header.preview = input.preview;
    return true;
  }

  protected async doListSessions(input: NormalizedList): Promise<StoredHeader[]> {
    // A full scan: fine for an in-process store; the server stores use indexes.
    const out: SessionHeader[] = [];
    for (const e of this.sessions.values()) {
      const h = e.header;
      if (h.agentId !== input.agentId) continue;
      if (input.userId !== null && h.userId !== input.userId) continue;
      if (isExpired(h.expiresAt, input.now)) continue;
      if (input.updatedAfter !== null && h.updatedAt < input.updatedAfter) continue;
      if (input.updatedBefore !== null && h.updatedAt >= input.updatedBefore) continue;
      if (input.cursor && !isAfterCursor(h, input.cursor)) continue;
      if (!matchesMetadata(h.metadata, input.metadata)) continue;
      out.push(h);
    }
    out.sort(newestFirst);
    return copy(out.slice(0, input.fetchLimit));
  }

  protected override async doListUserSessions(input: NormalizedUserList): Promise<StoredHeader[]> {
    const out: SessionHeader[] = [];
    for (const e of this.sessions.values()) {
      const h = e.header;
      if (h.userId !== input.userId || isExpired(h.expiresAt, input.now)) continue;
      if (input.agentId !== null && h.agentId !== input.agentId) continue;
      const a = input.after;
      if (a && (h.agentId < a.agentId || (h.agentId === a.agentId && h.sessionId <= a.sessionId))) continue;
      out.push(h);
    }
    out.sort((x, y) => (x.agentId === y.agentId ? (x.sessionId < y.sessionId ? -1 : 1) : x.agentId < y.agentId ? -1 : 1));
    return copy(out.slice(0, input.limit));
  }

  protected override async doImportSession(input: NormalizedImport): Promise<StoredHeader> {
    const key = this.key(input.agentId, input.sessionId);
    const e = this.sessions.get(key);
    if (e && !isExpired(e.header.expiresAt, input.now)) {
      throw this.exists(input);
    }
    const header: SessionHeader = {
      ...input.header,
      agentId: input.agentId,
      sessionId: input.sessionId,
      userId: input.userId,
      version: 1,
      lastSeq: input.lastSeq,
      runCount: input.lastSeq,
    };
    const runs = copy(input.runs);
    this.sessions.set(key, { header, runs, byRunId: new Map(runs.map((r) => [r.runId, r])) });
    return copy(header);
  }

  protected async doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    const e = this.visible(input, input.now);
    if (!e) return false;
    this.sessions.delete(this.key(input.agentId, input.sessionId));
    return true;
  }

  protected async doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    const e = this.visible(input, input.now);
    if (!e) return null;
    const run = e.runs[e.runs.length - 1];
    if (!run) return null;
    // Runs always hold at least one item, so the newest run holds the newest item.
    const item = run.items.pop() as Run['items'][number];
    if (run.items.length === 0) {
      e.runs.pop();
      e.byRunId.delete(run.runId);
      e.header.lastSeq = run.seq - 1;
      e.header.runCount = e.header.lastSeq;
    }
    this.bump(e.header, input.now);
    return { item: copy(item), runId: run.runId, seq: run.seq };
  }

  protected async doPrune(input: NormalizedPrune): Promise<PruneResult> {
    let sessions = 0;
    let runs = 0;
    for (const [key, e] of this.sessions) {
      if (input.agentId !== null && e.header.agentId !== input.agentId) continue;
      if (isExpired(e.header.expiresAt, input.now)) {
        this.sessions.delete(key);
        sessions += 1;
        runs += e.runs.length;
        continue;
      }
      if (input.runsCreatedBefore !== null) {
        const cut = input.runsCreatedBefore;
        const keep = e.runs.filter((r) => r.createdAt >= cut);
        for (const r of e.runs) if (r.createdAt < cut) e.byRunId.delete(r.runId);
        runs += e.runs.length - keep.length;
        e.runs = keep;
      }
    }
    return { sessions, runs };
  }

  protected async doClose(): Promise<void> {
    // Nothing to release: the data lives as long as this object.
  }
}
