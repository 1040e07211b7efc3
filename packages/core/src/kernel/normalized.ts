import type { ListCursor } from '../cursor.js';
import { MAX_TTL_MS } from '../ttl.js';
import type { Duration, JsonObject, JsonValue, RunStatus } from '../types.js';

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
