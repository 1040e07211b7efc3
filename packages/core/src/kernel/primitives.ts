import { AgentSessionsError, type ErrorCode } from '../errors.js';
import type { ServerInfo } from '../ops/telemetry-types.js';
import type { PoppedItem, PruneResult, Run } from '../types.js';
import { classifyError, type DriverErrorTable } from './classify.js';
import type {
  NormalizedAppend,
  NormalizedCreate,
  NormalizedImport,
  NormalizedList,
  NormalizedListRuns,
  NormalizedPatch,
  NormalizedPrune,
  NormalizedRead,
  NormalizedRewriteRun,
  NormalizedRewriteText,
  NormalizedUpdate,
  NormalizedUserList,
  NormalizedWrite,
  ScopedRef,
  StoreCapabilities,
  StoredAppendResult,
  StoredHeader,
  StoredHistory,
} from './normalized.js';
import { DEFAULT_TIMEOUT_MS } from './normalized.js';

/** See `StorePrimitives[REWRITE_ACCESS]`. */
export const REWRITE_ACCESS: unique symbol = Symbol.for('@agent-sessions/core/rewrite-access') as never;

export interface RewriteAccess {
  rewriteRun(input: NormalizedRewriteRun): Promise<boolean>;
  rewriteText(input: NormalizedRewriteText): Promise<boolean>;
  classify(err: unknown): ErrorCode | undefined;
  timeoutMs: number;
  /** The store's clock. */
  now(): number;
}

/**
 * What a store implements: the protected primitives over validated, normalized input, and the
 * errors they raise. `SessionStore` (session-store.ts) wraps them in the public, checked,
 * bounded, traced methods.
 *
 * Rules every primitive keeps:
 * - A session that is expired, or owned by another user than a named one, behaves as absent.
 *   Writes to it (other than a fresh start of an expired one) fail with `not_found`.
 * - `doAppendRun` is atomic, idempotent by run id within the session, gapless in `seq`.
 * - Order is by `seq` only.
 */
export abstract class StorePrimitives {
  /** Short backend name used in error messages: `memory`, `postgres`, `redis`, ... */
  abstract readonly name: string;
  abstract readonly capabilities: StoreCapabilities;
  /** How this store's driver errors map to codes; see `classifyError` in `@agent-sessions/core/store`. */
  protected readonly driverErrors: DriverErrorTable = {};

  protected abstract doAppendRun(input: NormalizedAppend): Promise<StoredAppendResult>;
  protected abstract doListRuns(input: NormalizedListRuns): Promise<Run[]>;
  protected abstract doGetSession(input: NormalizedRead): Promise<StoredHeader | null>;
  protected abstract doCreateSession(input: NormalizedCreate): Promise<{ session: StoredHeader; created: boolean }>;
  protected abstract doUpdateSession(input: NormalizedUpdate): Promise<StoredHeader>;
  protected abstract doListSessions(input: NormalizedList): Promise<StoredHeader[]>;
  protected abstract doDeleteSession(input: NormalizedWrite): Promise<boolean>;
  protected abstract doPopItem(input: NormalizedWrite): Promise<PoppedItem | null>;
  protected abstract doPrune(input: NormalizedPrune): Promise<PruneResult>;
  protected abstract doClose(): Promise<void>;

  // Primitives added after the first contract: a store that lacks one says so with a typed error.

  /** Sets the title and/or touches, bumping `version`; `not_found` for an absent session. */
  protected doPatchSession(_input: NormalizedPatch): Promise<StoredHeader> {
    return Promise.reject(this.lacks('renameSession / touchSession'));
  }

  /** One page of a user's live sessions, ordered by (agentId, sessionId). */
  protected doListUserSessions(_input: NormalizedUserList): Promise<StoredHeader[]> {
    return Promise.reject(this.lacks('listUserSessions'));
  }

  /** Writes a whole session; `conflict` when it exists and is live. */
  protected doImportSession(_input: NormalizedImport): Promise<StoredHeader> {
    return Promise.reject(this.lacks('restoreSession'));
  }

  /**
   * Replaces a committed run's items in place when they are still exactly `input.expected`
   * (compare-and-set in one statement or script), leaving version, updatedAt, TTL and lastSeq
   * alone. False when the session is not visible, or the run is absent, moved or changed.
   * Used by `reencryptSession` to seal runs again with the current key.
   */
  protected doRewriteRun(_input: NormalizedRewriteRun): Promise<boolean> {
    return Promise.reject(this.lacks('rewriting a run (reencryptSession)'));
  }

  /**
   * Replaces the header's `title` and `preview` when both are still exactly `input.expected`
   * (compare-and-set), leaving version, updatedAt and TTL alone. False when the session is not
   * visible or either field changed. Used by `reencryptSession`.
   */
  protected doRewriteText(_input: NormalizedRewriteText): Promise<boolean> {
    return Promise.reject(this.lacks('rewriting title and preview (reencryptSession)'));
  }

  /**
   * Core's own re-encryption (`reencryptSession`) only: the rewrite primitives and this store's
   * error classification. Not part of the public contract.
   * @internal
   */
  [REWRITE_ACCESS](): RewriteAccess {
    return {
      rewriteRun: (input) => this.doRewriteRun(input),
      rewriteText: (input) => this.doRewriteText(input),
      classify: (err) => this.classifyError(err),
      // The base class's per-call bound (SessionStore sets it); the default otherwise.
      timeoutMs: (this as unknown as { timeoutMs?: number }).timeoutMs ?? DEFAULT_TIMEOUT_MS,
      now: () => ((this as unknown as { clock?: () => number }).clock ?? Date.now)(),
    };
  }

  private lacks(what: string): AgentSessionsError {
    return new AgentSessionsError('not_implemented', `this store does not implement ${what}: update the store package`, { source: this.name });
  }

  /**
   * The header and the window together. The default asks both primitives at once (one round trip
   * of latency, two requests); a server store overrides it to answer in one statement or script.
   * A store that overrides it must see the same snapshot for both: no run newer than the header.
   */
  protected async doReadHistory(input: NormalizedListRuns): Promise<StoredHistory> {
    const [session, runs] = await Promise.all([this.doGetSession(input), this.doListRuns(input)]);
    if (!session) return { session: null, runs: [] };
    return { session, runs: runs.filter((r) => r.seq <= session.lastSeq) };
  }

  /**
   * Where the store's server is, for the `server.address`, `server.port` and `db.namespace`
   * attributes of its spans and metrics. Called on every traced call: return a cached object.
   * Default: nothing known. Never return credentials.
   */
  protected serverInfo(): ServerInfo | undefined {
    return undefined;
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

  /** An error for a restore onto a session that exists. */
  protected exists(ref: ScopedRef): AgentSessionsError {
    return new AgentSessionsError('conflict', `session '${ref.sessionId}' of agent '${ref.agentId}' already exists`, { source: this.name });
  }

  /** An error for a stale `expectedVersion`. */
  protected conflict(ref: ScopedRef, expected: number, actual: number): AgentSessionsError {
    return new AgentSessionsError(
      'conflict',
      `session '${ref.sessionId}' is at version ${actual}, not ${expected}: read it again and retry`,
      { source: this.name },
    );
  }
}
