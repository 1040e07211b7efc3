import {
  SessionStore,
  canAccess,
  expiryFor,
  isExpired,
  type NormalizedAppend,
  type NormalizedCreate,
  type NormalizedList,
  type NormalizedListRuns,
  type NormalizedPrune,
  type NormalizedRead,
  type NormalizedUpdate,
  type NormalizedWrite,
  type ScopedRef,
  type StoreCapabilities,
  type StoreOptions,
} from './session-store.js';
import { isAfterCursor } from './cursor.js';
import type { AppendRunResult, PoppedItem, PruneResult, Run, SessionHeader } from './types.js';

interface Entry {
  header: SessionHeader;
  runs: Run[];
  byRunId: Map<string, Run>;
}

export type MemoryStoreOptions = StoreOptions;

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

  protected async doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    const key = this.key(input.agentId, input.sessionId);
    let e = this.sessions.get(key);
    if (e && isExpired(e.header.expiresAt, input.now)) {
      this.sessions.delete(key);
      e = undefined;
    }
    if (e && !canAccess(e.header.userId, input.userId)) throw this.notFound(input);
    if (!e) {
      const ttlMs = input.ttlMs === undefined ? input.defaultTtlMs : input.ttlMs;
      e = {
        header: {
          agentId: input.agentId,
          sessionId: input.sessionId,
          userId: input.userId,
          createdAt: input.now,
          updatedAt: input.now,
          expiresAt: expiryFor(ttlMs, input.now),
          ttlMs,
          metadata: structuredClone(input.sessionMetadata),
          state: {},
          summary: null,
          version: 0,
          lastSeq: 0,
        },
        runs: [],
        byRunId: new Map(),
      };
      this.sessions.set(key, e);
    }
    const existing = e.byRunId.get(input.runId);
    if (existing) return { run: structuredClone(existing), created: false, session: structuredClone(e.header) };
    const h = e.header;
    if (input.expectedLastSeq !== null && h.lastSeq !== input.expectedLastSeq) {
      if (h.version === 0) this.sessions.delete(key);
      throw this.staleHistory(input, input.expectedLastSeq, h.lastSeq);
    }
    const run: Run = {
      runId: input.runId,
      seq: h.lastSeq + 1,
      createdAt: input.now,
      status: input.status,
      format: input.format,
      items: JSON.parse(JSON.stringify(input.items)) as Run['items'],
      usage: input.usage === null ? null : structuredClone(input.usage),
      metadata: input.metadata === null ? null : structuredClone(input.metadata),
    };
    e.runs.push(run);
    e.byRunId.set(run.runId, run);
    if (input.ttlMs !== undefined) h.ttlMs = input.ttlMs;
    h.lastSeq = run.seq;
    h.version += 1;
    h.updatedAt = Math.max(h.updatedAt, input.now);
    h.expiresAt = expiryFor(h.ttlMs, input.now);
    return { run: structuredClone(run), created: true, session: structuredClone(h) };
  }

  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    const e = this.visible(input, input.now);
    if (!e) return [];
    if (input.touch) e.header.expiresAt = expiryFor(e.header.ttlMs, input.now);
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
    return structuredClone(e.runs.slice(Math.max(0, end - input.limit), end));
  }

  protected async doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    const e = this.visible(input, input.now);
    if (!e) return null;
    if (input.touch) e.header.expiresAt = expiryFor(e.header.ttlMs, input.now);
    return structuredClone(e.header);
  }

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    const key = this.key(input.agentId, input.sessionId);
    const e = this.sessions.get(key);
    if (e && !isExpired(e.header.expiresAt, input.now)) {
      if (!canAccess(e.header.userId, input.userId)) throw this.notFound(input);
      return { session: structuredClone(e.header), created: false };
    }
    const header: SessionHeader = {
      agentId: input.agentId,
      sessionId: input.sessionId,
      userId: input.userId,
      createdAt: input.now,
      updatedAt: input.now,
      expiresAt: expiryFor(input.ttlMs, input.now),
      ttlMs: input.ttlMs,
      metadata: structuredClone(input.metadata),
      state: structuredClone(input.state),
      summary: null,
      version: 1,
      lastSeq: 0,
    };
    this.sessions.set(key, { header, runs: [], byRunId: new Map() });
    return { session: structuredClone(header), created: true };
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    const e = this.visible(input, input.now);
    if (!e) throw this.notFound(input);
    const h = e.header;
    if (h.version !== input.expectedVersion) throw this.conflict(input, input.expectedVersion, h.version);
    if (input.metadata !== undefined) h.metadata = structuredClone(input.metadata);
    if (input.state !== undefined) h.state = structuredClone(input.state);
    if (input.summary !== undefined) h.summary = input.summary;
    h.version += 1;
    h.updatedAt = Math.max(h.updatedAt, input.now);
    h.expiresAt = expiryFor(h.ttlMs, input.now);
    return structuredClone(h);
  }

  protected async doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
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
      out.push(h);
    }
    out.sort((a, b) => b.updatedAt - a.updatedAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0));
    return structuredClone(out.slice(0, input.fetchLimit));
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
    }
    e.header.version += 1;
    e.header.updatedAt = Math.max(e.header.updatedAt, input.now);
    e.header.expiresAt = expiryFor(e.header.ttlMs, input.now);
    return { item: structuredClone(item), runId: run.runId, seq: run.seq };
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
