import { decodeCursor, encodeCursor, type ListCursor } from './cursor.js';
import { AgentSessionsError, type ErrorCode } from './errors.js';
import { generateRunId } from './ids.js';
import { parseDuration, ttlToMs } from './ttl.js';
import type {
  AppendRunInput,
  AppendRunResult,
  CreateSessionInput,
  Duration,
  JsonObject,
  JsonValue,
  ListRunsInput,
  ListSessionsInput,
  PoppedItem,
  PruneInput,
  PruneResult,
  Run,
  RunStatus,
  SessionHeader,
  SessionPage,
  SessionRef,
  UpdateSessionInput,
} from './types.js';
import {
  assertId,
  assertItems,
  assertJson,
  assertJsonObject,
  assertLimit,
  assertOptionalId,
  assertStatus,
  assertTime,
} from './validate.js';

/** The most runs one `listRuns` call returns, and the largest listing page. */
export const MAX_PAGE = 1000;

/** What a backend can or cannot do; the conformance suite and core adapt to these, never to a name. */
export interface StoreCapabilities {
  /** The backend deletes expired sessions by itself (key expiry, TTL index). Reads hide expired sessions either way. */
  nativeTtl: boolean;
}

export interface StoreOptions {
  /** Default time to live of new sessions, refreshed on every write. Default: none (sessions never expire). */
  ttl?: Duration | null | undefined;
  /** Also refresh a session's TTL when its history or header is read. Default: false. */
  touchOnRead?: boolean | undefined;
  /** The clock, in epoch ms. Default: Date.now. */
  clock?: (() => number) | undefined;
}

/** A session reference after validation: `userId` is null when the call named no user. */
export interface ScopedRef {
  agentId: string;
  sessionId: string;
  userId: string | null;
}

export interface NormalizedAppend extends ScopedRef {
  runId: string;
  status: RunStatus;
  format: string;
  items: JsonValue[];
  usage: JsonObject | null;
  metadata: JsonObject | null;
  sessionMetadata: JsonObject;
  now: number;
  /** Explicit TTL for the session; undefined keeps the session's own (or `defaultTtlMs` for a new one). */
  ttlMs: number | null | undefined;
  defaultTtlMs: number | null;
}

export interface NormalizedListRuns extends ScopedRef {
  limit: number;
  beforeSeq: number | null;
  now: number;
  /** Refresh the TTL of the session read. */
  touch: boolean;
}

export interface NormalizedRead extends ScopedRef {
  now: number;
  touch: boolean;
}

export interface NormalizedCreate extends ScopedRef {
  metadata: JsonObject;
  state: JsonObject;
  ttlMs: number | null;
  now: number;
}

export interface NormalizedUpdate extends ScopedRef {
  expectedVersion: number;
  metadata: JsonObject | undefined;
  state: JsonObject | undefined;
  summary: string | null | undefined;
  now: number;
}

export interface NormalizedList {
  agentId: string;
  userId: string | null;
  /** Fetch up to this many (one more than the page size, so core knows whether a next page exists). */
  fetchLimit: number;
  cursor: ListCursor | null;
  updatedAfter: number | null;
  updatedBefore: number | null;
  now: number;
}

export interface NormalizedPrune {
  agentId: string | null;
  /** Remove runs created before this time; null keeps runs of live sessions. */
  runsCreatedBefore: number | null;
  now: number;
}

export interface NormalizedWrite extends ScopedRef {
  now: number;
}

/** True when a call naming `userId` (null: none) may see a session owned by `owner`. */
export function canAccess(owner: string | null, userId: string | null): boolean {
  return userId === null || owner === userId;
}

/** True when a session with this expiry is expired at `now`. */
export function isExpired(expiresAt: number | null, now: number): boolean {
  return expiresAt !== null && expiresAt <= now;
}

/** The expiry a write at `now` gives a session with this TTL. */
export function expiryFor(ttlMs: number | null, now: number): number | null {
  return ttlMs === null ? null : now + ttlMs;
}

/**
 * The store contract. Public methods validate input (before anything is written), apply the
 * store-wide defaults and wrap every failure in one AgentSessionsError; a store implements the
 * protected `do*` primitives over already validated input.
 *
 * Rules every primitive keeps:
 * - A session that is expired, or owned by another user than a named one, behaves as absent.
 *   Writes to it (other than a fresh start of an expired one) fail with `not_found`.
 * - `doAppendRun` is atomic, idempotent by run id within the session, gapless in `seq`.
 * - Order is by `seq` only.
 */
export abstract class SessionStore {
  /** Short backend name used in error messages: `memory`, `postgres`, `redis`, ... */
  abstract readonly name: string;
  abstract readonly capabilities: StoreCapabilities;

  protected readonly defaultTtlMs: number | null;
  protected readonly touchOnRead: boolean;
  protected readonly clock: () => number;

  constructor(options: StoreOptions = {}) {
    this.defaultTtlMs = ttlToMs(options.ttl ?? null) ?? null;
    this.touchOnRead = options.touchOnRead ?? false;
    this.clock = options.clock ?? Date.now;
  }

  /** Appends one run: all its items or none, once per run id, at the next sequence number. */
  async appendRun(input: AppendRunInput): Promise<AppendRunResult> {
    const ref = this.ref(input);
    const runId = input.runId ?? generateRunId();
    assertId(runId, 'runId', this.name);
    const status = input.status ?? 'completed';
    assertStatus(status, this.name);
    assertId(input.format, 'format', this.name);
    assertItems(input.items, this.name);
    if (input.usage != null) assertJsonObject(input.usage, 'usage', this.name);
    if (input.metadata != null) assertJsonObject(input.metadata, 'metadata', this.name);
    if (input.sessionMetadata !== undefined) assertJsonObject(input.sessionMetadata, 'sessionMetadata', this.name);
    const ttlMs = this.ttl(input.ttl);
    return this.guard('appendRun', () =>
      this.doAppendRun({
        ...ref,
        runId,
        status,
        format: input.format,
        items: input.items,
        usage: input.usage ?? null,
        metadata: input.metadata ?? null,
        sessionMetadata: input.sessionMetadata ?? {},
        now: this.clock(),
        ttlMs,
        defaultTtlMs: this.defaultTtlMs,
      }),
    );
  }

  /** The last `limit` runs before `beforeSeq` (or the newest), oldest first. Empty for an absent session. */
  async listRuns(input: ListRunsInput): Promise<Run[]> {
    const ref = this.ref(input);
    assertLimit(input.limit, 'limit', MAX_PAGE, this.name);
    if (input.beforeSeq !== undefined) assertLimit(input.beforeSeq, 'beforeSeq', Number.MAX_SAFE_INTEGER, this.name);
    return this.guard('listRuns', () =>
      this.doListRuns({
        ...ref,
        limit: input.limit,
        beforeSeq: input.beforeSeq ?? null,
        now: this.clock(),
        touch: this.touchOnRead,
      }),
    );
  }

  /** The session's header, or null when it does not exist for this caller. */
  async getSession(input: SessionRef): Promise<SessionHeader | null> {
    const ref = this.ref(input);
    return this.guard('getSession', () => this.doGetSession({ ...ref, now: this.clock(), touch: this.touchOnRead }));
  }

  /** Creates an empty session, or returns the existing one (`created: false`). */
  async createSession(input: CreateSessionInput): Promise<{ session: SessionHeader; created: boolean }> {
    const ref = this.ref(input);
    if (input.metadata !== undefined) assertJsonObject(input.metadata, 'metadata', this.name);
    if (input.state !== undefined) assertJsonObject(input.state, 'state', this.name);
    const ttl = this.ttl(input.ttl);
    return this.guard('createSession', () =>
      this.doCreateSession({
        ...ref,
        metadata: input.metadata ?? {},
        state: input.state ?? {},
        ttlMs: ttl === undefined ? this.defaultTtlMs : ttl,
        now: this.clock(),
      }),
    );
  }

  /** Replaces metadata, state and/or summary if `expectedVersion` is current; otherwise `conflict`. */
  async updateSession(input: UpdateSessionInput): Promise<SessionHeader> {
    const ref = this.ref(input);
    assertLimit(input.expectedVersion, 'expectedVersion', Number.MAX_SAFE_INTEGER, this.name);
    if (input.metadata !== undefined) assertJsonObject(input.metadata, 'metadata', this.name);
    if (input.state !== undefined) assertJsonObject(input.state, 'state', this.name);
    if (input.summary !== undefined && input.summary !== null && typeof input.summary !== 'string') {
      throw new AgentSessionsError('invalid_input', 'summary must be a string or null', { source: this.name });
    }
    if (input.summary) assertJson(input.summary, 'summary', this.name);
    return this.guard('updateSession', () =>
      this.doUpdateSession({
        ...ref,
        expectedVersion: input.expectedVersion,
        metadata: input.metadata,
        state: input.state,
        summary: input.summary,
        now: this.clock(),
      }),
    );
  }

  /** One page of an agent's (or a user's) sessions, newest first. */
  async listSessions(input: ListSessionsInput): Promise<SessionPage> {
    assertId(input.agentId, 'agentId', this.name);
    assertOptionalId(input.userId, 'userId', this.name);
    const limit = input.limit ?? 20;
    assertLimit(limit, 'limit', MAX_PAGE, this.name);
    if (input.updatedAfter !== undefined) assertTime(input.updatedAfter, 'updatedAfter', this.name);
    if (input.updatedBefore !== undefined) assertTime(input.updatedBefore, 'updatedBefore', this.name);
    const cursor = input.cursor ? decodeCursor(input.cursor, this.name) : null;
    const found = await this.guard('listSessions', () =>
      this.doListSessions({
        agentId: input.agentId,
        userId: input.userId ?? null,
        fetchLimit: limit + 1,
        cursor,
        updatedAfter: input.updatedAfter ?? null,
        updatedBefore: input.updatedBefore ?? null,
        now: this.clock(),
      }),
    );
    const sessions = found.slice(0, limit);
    const last = sessions[sessions.length - 1];
    return {
      sessions,
      nextCursor: found.length > limit && last ? encodeCursor(last) : null,
    };
  }

  /** Deletes a session with all its runs. False when it did not exist for this caller. */
  async deleteSession(input: SessionRef): Promise<boolean> {
    const ref = this.ref(input);
    return this.guard('deleteSession', () => this.doDeleteSession({ ...ref, now: this.clock() }));
  }

  /** Removes and returns the newest item of the newest run; a run left empty is removed. */
  async popItem(input: SessionRef): Promise<PoppedItem | null> {
    const ref = this.ref(input);
    return this.guard('popItem', () => this.doPopItem({ ...ref, now: this.clock() }));
  }

  /** Removes expired sessions and, with `runsOlderThan`, runs created longer ago than that. */
  async prune(input: PruneInput = {}): Promise<PruneResult> {
    assertOptionalId(input.agentId, 'agentId', this.name);
    const now = this.clock();
    const age = input.runsOlderThan === undefined ? null : parseDuration(input.runsOlderThan, 'runsOlderThan');
    return this.guard('prune', () =>
      this.doPrune({ agentId: input.agentId ?? null, runsCreatedBefore: age === null ? null : now - age, now }),
    );
  }

  /** Releases what the store opened itself; an injected client stays open. */
  async close(): Promise<void> {
    await this.guard('close', () => this.doClose());
  }

  toJSON(): { store: string } {
    return { store: this.name };
  }

  protected abstract doAppendRun(input: NormalizedAppend): Promise<AppendRunResult>;
  protected abstract doListRuns(input: NormalizedListRuns): Promise<Run[]>;
  protected abstract doGetSession(input: NormalizedRead): Promise<SessionHeader | null>;
  protected abstract doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }>;
  protected abstract doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader>;
  protected abstract doListSessions(input: NormalizedList): Promise<SessionHeader[]>;
  protected abstract doDeleteSession(input: NormalizedWrite): Promise<boolean>;
  protected abstract doPopItem(input: NormalizedWrite): Promise<PoppedItem | null>;
  protected abstract doPrune(input: NormalizedPrune): Promise<PruneResult>;
  protected abstract doClose(): Promise<void>;

  /**
   * Maps a driver error to a code: a store returns `unavailable` for connection failures and
   * timeouts. Anything unclassified becomes `internal`.
   */
  protected classifyError(_err: unknown): ErrorCode | undefined {
    return undefined;
  }

  /** An error for a session that is absent for this caller. */
  protected notFound(ref: ScopedRef): AgentSessionsError {
    return new AgentSessionsError('not_found', `session '${ref.sessionId}' of agent '${ref.agentId}' not found`, {
      source: this.name,
    });
  }

  /** An error for a stale `expectedVersion`. */
  protected conflict(ref: ScopedRef, expected: number, actual: number): AgentSessionsError {
    return new AgentSessionsError(
      'conflict',
      `session '${ref.sessionId}' is at version ${actual}, not ${expected}: read it again and retry`,
      { source: this.name },
    );
  }

  private ref(input: SessionRef): ScopedRef {
    if (typeof input !== 'object' || input === null) {
      throw new AgentSessionsError('invalid_input', 'expected an object with agentId and sessionId', {
        source: this.name,
      });
    }
    assertId(input.agentId, 'agentId', this.name);
    assertId(input.sessionId, 'sessionId', this.name);
    assertOptionalId(input.userId, 'userId', this.name);
    return { agentId: input.agentId, sessionId: input.sessionId, userId: input.userId ?? null };
  }

  private ttl(value: Duration | null | undefined): number | null | undefined {
    try {
      return ttlToMs(value);
    } catch (err) {
      throw new AgentSessionsError('invalid_input', (err as Error).message.replace(/^\[agent-sessions\] /, ''), {
        source: this.name,
      });
    }
  }

  private async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AgentSessionsError) throw err;
      const code = this.classifyError(err) ?? 'internal';
      const reason = err instanceof Error ? err.message : String(err);
      throw new AgentSessionsError(code, `${op} failed: ${reason}`, { source: this.name, cause: err });
    }
  }
}
