import { decodeCursor, encodeCursor, type ListCursor } from './cursor.js';
import { AgentSessionsError, type ErrorCode } from './errors.js';
import { generateRunId } from './ids.js';
import { classifyError, type DriverErrorTable } from './kernel/classify.js';
import { MAX_TTL_MS, parseDuration, ttlToMs } from './ttl.js';
import type {
  AppendRunInput,
  AppendRunResult,
  CreateSessionInput,
  Duration,
  JsonObject,
  JsonValue,
  ListRunsInput,
  ListSessionsInput,
  History,
  PoppedItem,
  ReadHistoryInput,
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
  assertLimit,
  assertOptionalId,
  assertStatus,
  assertTime,
  snapshotItems,
  snapshotJson,
  snapshotObject,
} from './validate.js';

/** The most runs one `listRuns` call returns, and the largest listing page. */
export const MAX_PAGE = 1000;

/** What a backend can or cannot do; the conformance suite and core adapt to these, never to a name. */
export interface StoreCapabilities {
  /** The backend deletes expired sessions by itself (key expiry, TTL index). Reads hide expired sessions either way. */
  nativeTtl: boolean;
}

/** The default bound of one store call, in ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface StoreOptions {
  /**
   * Default time to live of new sessions, refreshed on every write: 1 ms to 100 years
   * (`MAX_TTL_MS`). Default: none (sessions never expire).
   */
  ttl?: Duration | null | undefined;
  /**
   * The longest one call may take (setup included) before it fails with `unavailable`, so a
   * paused or unreachable server never hangs the caller. A write that timed out may still land:
   * retry it with the same run id. `prune` is exempt (it works in bounded batches). Default 10000.
   */
  timeoutMs?: number | undefined;
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
  /** `now + ttlMs` for an explicit TTL (null: never expires); undefined when the TTL is kept. */
  expiresAt: number | null | undefined;
  /** The expiry of a session this append creates without an explicit TTL. */
  defaultExpiresAt: number | null;
  /** Fail with `conflict` unless the session's lastSeq (0 when absent or expired) equals this; null: no check. */
  expectedLastSeq: number | null;
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
  /** `now + ttlMs`, or null. */
  expiresAt: number | null;
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

/**
 * The expiry a write at `now` gives a session with this TTL. TTLs are bounded by MAX_TTL_MS when
 * they are accepted, so the result is a time every backend can represent.
 */
export function expiryFor(ttlMs: number | null, now: number): number | null {
  return ttlMs === null ? null : now + Math.min(ttlMs, MAX_TTL_MS);
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
  /** The bound of one call, in ms. */
  protected readonly timeoutMs: number;
  /** How this store's driver errors map to codes; see `classifyError` in `@agent-sessions/core/store`. */
  protected readonly driverErrors: DriverErrorTable = {};
  #setupDone = false;
  #setupRunning: Promise<void> | undefined;

  constructor(options: StoreOptions = {}) {
    this.defaultTtlMs = ttlToMs(options.ttl ?? null) ?? null;
    this.touchOnRead = options.touchOnRead ?? false;
    this.clock = options.clock ?? Date.now;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2 ** 31 - 1) {
      throw new AgentSessionsError('invalid_input', `timeoutMs must be a whole number of ms from 1 to ${2 ** 31 - 1}`, {
        source: this.constructor.name,
      });
    }
    this.timeoutMs = timeout;
  }

  /** Appends one run: all its items or none, once per run id, at the next sequence number. */
  async appendRun(input: AppendRunInput): Promise<AppendRunResult> {
    const ref = this.ref(input);
    const runId = input.runId ?? generateRunId();
    assertId(runId, 'runId', this.name);
    const status = input.status ?? 'completed';
    assertStatus(status, this.name);
    assertId(input.format, 'format', this.name);
    // Snapshots: what was checked is exactly what the store writes.
    const items = snapshotItems(input.items, this.name);
    const usage = input.usage == null ? null : snapshotObject(input.usage, 'usage', this.name);
    const metadata = input.metadata == null ? null : snapshotObject(input.metadata, 'metadata', this.name);
    const sessionMetadata =
      input.sessionMetadata === undefined ? {} : snapshotObject(input.sessionMetadata, 'sessionMetadata', this.name);
    const ttlMs = this.ttl(input.ttl);
    if (input.expectedLastSeq !== undefined) {
      if (typeof input.expectedLastSeq !== 'number' || !Number.isSafeInteger(input.expectedLastSeq) || input.expectedLastSeq < 0) {
        throw new AgentSessionsError('invalid_input', `expectedLastSeq must be a whole number ≥ 0, got ${String(input.expectedLastSeq)}`, {
          source: this.name,
        });
      }
    }
    return this.guard('appendRun', () => {
      const now = this.clock();
      return this.doAppendRun({
        ...ref,
        runId,
        status,
        format: input.format,
        items,
        usage,
        metadata,
        sessionMetadata,
        now,
        ttlMs,
        defaultTtlMs: this.defaultTtlMs,
        expiresAt: ttlMs === undefined ? undefined : expiryFor(ttlMs, now),
        defaultExpiresAt: expiryFor(this.defaultTtlMs, now),
        expectedLastSeq: input.expectedLastSeq ?? null,
      });
    });
  }

  /** The last `limit` runs before `beforeSeq` (or the newest), oldest first. Empty for an absent session. */
  async listRuns(input: ListRunsInput): Promise<Run[]> {
    const normalized = this.listRunsInput(input);
    return this.guard('listRuns', () => this.doListRuns({ ...normalized, now: this.clock() }));
  }

  private listRunsInput(input: ListRunsInput): NormalizedListRuns {
    const ref = this.ref(input);
    assertLimit(input.limit, 'limit', MAX_PAGE, this.name);
    if (input.beforeSeq !== undefined) assertLimit(input.beforeSeq, 'beforeSeq', Number.MAX_SAFE_INTEGER, this.name);
    return { ...ref, limit: input.limit, beforeSeq: input.beforeSeq ?? null, now: this.clock(), touch: this.touchOnRead };
  }

  /**
   * The session's header and its last `limit` runs before `beforeSeq` (or the newest), oldest
   * first: what a turn loads. Server stores answer it in one round trip.
   */
  async readHistory(input: ReadHistoryInput): Promise<History> {
    return this.guard('readHistory', () => this.doReadHistory(this.listRunsInput(input)));
  }

  /** The session's header, or null when it does not exist for this caller. */
  async getSession(input: SessionRef): Promise<SessionHeader | null> {
    const ref = this.ref(input);
    return this.guard('getSession', () => this.doGetSession({ ...ref, now: this.clock(), touch: this.touchOnRead }));
  }

  /** Creates an empty session, or returns the existing one (`created: false`). */
  async createSession(input: CreateSessionInput): Promise<{ session: SessionHeader; created: boolean }> {
    const ref = this.ref(input);
    const metadata = input.metadata === undefined ? {} : snapshotObject(input.metadata, 'metadata', this.name);
    const state = input.state === undefined ? {} : snapshotObject(input.state, 'state', this.name);
    const ttl = this.ttl(input.ttl);
    const ttlMs = ttl === undefined ? this.defaultTtlMs : ttl;
    return this.guard('createSession', () => {
      const now = this.clock();
      return this.doCreateSession({ ...ref, metadata, state, ttlMs, expiresAt: expiryFor(ttlMs, now), now });
    });
  }

  /** Replaces metadata, state and/or summary if `expectedVersion` is current; otherwise `conflict`. */
  async updateSession(input: UpdateSessionInput): Promise<SessionHeader> {
    const ref = this.ref(input);
    assertLimit(input.expectedVersion, 'expectedVersion', Number.MAX_SAFE_INTEGER, this.name);
    const metadata = input.metadata === undefined ? undefined : snapshotObject(input.metadata, 'metadata', this.name);
    const state = input.state === undefined ? undefined : snapshotObject(input.state, 'state', this.name);
    const summary = input.summary;
    if (summary !== undefined && summary !== null && typeof summary !== 'string') {
      throw new AgentSessionsError('invalid_input', 'summary must be a string or null', { source: this.name });
    }
    if (summary) snapshotJson(summary, 'summary', this.name);
    return this.guard('updateSession', () =>
      this.doUpdateSession({ ...ref, expectedVersion: input.expectedVersion, metadata, state, summary, now: this.clock() }),
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
    return this.guard(
      'prune',
      () => this.doPrune({ agentId: input.agentId ?? null, runsCreatedBefore: age === null ? null : now - age, now }),
      { timeout: false },
    );
  }

  /**
   * Runs the store's one-time setup (connecting, migrating, loading scripts) now instead of on the
   * first call. Concurrent callers share one attempt; a failed attempt is retried by the next call.
   */
  async setup(): Promise<void> {
    await this.guard('setup', async () => {});
  }

  /** Releases what the store opened itself; an injected client stays open. */
  async close(): Promise<void> {
    await this.guard('close', () => this.doClose(), { setup: false });
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
   * The header and the window together. The default asks both primitives at once (one round trip
   * of latency, two requests); a server store overrides it to answer in one statement or script.
   * A store that overrides it must see the same snapshot for both: no run newer than the header.
   */
  protected async doReadHistory(input: NormalizedListRuns): Promise<History> {
    const [session, runs] = await Promise.all([this.doGetSession(input), this.doListRuns(input)]);
    if (!session) return { session: null, runs: [] };
    return { session, runs: runs.filter((r) => r.seq <= session.lastSeq) };
  }

  /**
   * One-time setup before the first call (connect, migrate, load scripts). Runs once, shared by
   * concurrent first calls, and again after a failure. Default: nothing.
   */
  protected doSetup(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Maps a driver error to a code. The default reads `driverErrors` (see `classifyError`):
   * conflict, access_denied, unavailable, else internal.
   */
  protected classifyError(err: unknown): ErrorCode | undefined {
    return classifyError(err, this.driverErrors);
  }

  /** An error for a session that is absent for this caller. */
  protected notFound(ref: ScopedRef): AgentSessionsError {
    return new AgentSessionsError('not_found', `session '${ref.sessionId}' of agent '${ref.agentId}' not found`, {
      source: this.name,
    });
  }

  /** An error for an append whose `expectedLastSeq` is no longer the session's lastSeq. */
  protected staleHistory(ref: ScopedRef, expected: number, actual: number): AgentSessionsError {
    return new AgentSessionsError(
      'conflict',
      `session '${ref.sessionId}' has lastSeq ${actual}, not the expected ${expected}: another run landed first; read the history again`,
      { source: this.name },
    );
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

  #ready(): Promise<void> | undefined {
    if (this.#setupDone) return undefined;
    this.#setupRunning ??= this.doSetup().then(
      () => {
        this.#setupDone = true;
        this.#setupRunning = undefined;
      },
      (err: unknown) => {
        this.#setupRunning = undefined;
        throw err;
      },
    );
    return this.#setupRunning;
  }

  /** Setup first, then `fn`, bounded by `timeoutMs`; every failure becomes an AgentSessionsError. */
  private async guard<T>(
    op: string,
    fn: () => Promise<T>,
    opts: { setup?: boolean; timeout?: boolean } = {},
  ): Promise<T> {
    const run = async (): Promise<T> => {
      if (opts.setup !== false) {
        const pending = this.#ready();
        if (pending) await pending;
      }
      return fn();
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      if (opts.timeout === false) return await run();
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new AgentSessionsError('unavailable', `${op} did not finish within ${this.timeoutMs} ms (the timeoutMs option); a write may still land: retry it with the same run id`, {
              source: this.name,
            }),
          );
        }, this.timeoutMs);
      });
      return await Promise.race([run(), timedOut]);
    } catch (err) {
      if (err instanceof AgentSessionsError) throw err;
      const code = this.classifyError(err) ?? 'internal';
      const reason = err instanceof Error ? err.message : String(err);
      throw new AgentSessionsError(code, `${op} failed: ${reason}`, { source: this.name, cause: err });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
