import type { ListCursor } from '../cursor.js';
import type { EncryptionOption } from '../ops/encryption.js';
import type { Logger } from '../ops/logger.js';
import type { TelemetryOption } from '../ops/telemetry-types.js';
import { MAX_TTL_MS } from '../ttl.js';
import type { Duration, JsonObject, JsonValue, Run, RunStatus, SessionHeader, SessionKey, UsageTotals } from '../types.js';

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
  /**
   * Where failed calls (and the store's own warnings) are logged: any object with debug, info,
   * warn and error (pino, console), called as `logger.warn(fields, message)`. Never given session
   * content or credentials. Default: none.
   */
  logger?: Logger | undefined;
  /**
   * OpenTelemetry spans and metrics for every call, when `@opentelemetry/api` is installed.
   * `false` turns them off; `{ tracerProvider, meterProvider }` replaces the global providers.
   * Default: true.
   */
  telemetry?: TelemetryOption | undefined;
  /**
   * Encrypts content at rest (items, state, summary, title, preview) with AES-256-GCM: a 32-byte
   * key, or a key ring `{ keys: { [id]: key }, current: id }` for rotation. Default: none.
   */
  encryption?: EncryptionOption | undefined;
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
  /** Becomes the session's title if it has none (bounded, trimmed); null: leave it. */
  title: string | null;
  /** Replaces the session's preview; null: leave it. */
  preview: string | null;
  /** Added to the session's usage totals (zeros when the run has no usage). */
  usageDelta: UsageTotals;
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
  /** Given with `summary` (0 when the summary is cleared); undefined: leave it. */
  summarySeq: number | undefined;
  now: number;
}

/** `renameSession` and `touchSession`: no version check, no read first. */
export interface NormalizedPatch extends ScopedRef {
  /** The new title (null clears it); undefined leaves it. */
  title: string | null | undefined;
  /** Also set `updatedAt` to now (a touch moves the session to the top of its list). */
  touch: boolean;
  now: number;
}

/** A whole session to write at once (import, fork): the session must not exist (or be expired). */
export interface NormalizedImport extends ScopedRef {
  header: Omit<SessionHeader, 'agentId' | 'sessionId' | 'userId' | 'version' | 'lastSeq' | 'runCount'>;
  /** Oldest first, seqs strictly increasing; the last one's seq becomes `lastSeq` (0 without runs). */
  runs: Run[];
  lastSeq: number;
  now: number;
}

/** One page of a user's sessions across agents, ordered by (agentId, sessionId). */
export interface NormalizedUserList {
  userId: string;
  agentId: string | null;
  limit: number;
  /** Start after this one. */
  after: SessionKey | null;
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
  /** Equality on each key; null: no filter. */
  metadata: { [key: string]: string | number | boolean } | null;
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

/**
 * Re-encryption: one run's items replaced in place, compare-and-set on what was read. The store
 * writes `items` only if the run `runId` is still at `seq` (committed, in a live session this
 * caller may see) with exactly `expected` as its items, and leaves version, updatedAt, TTL and
 * lastSeq alone. A run changed meanwhile (a pop took an item) is never undone: the write is refused.
 */
export interface NormalizedRewriteRun extends ScopedRef {
  runId: string;
  seq: number;
  /** The items as stored (still sealed), as a read returned them. */
  expected: JsonValue[];
  /** The replacement, as many items as `expected`. */
  items: JsonValue[];
  now: number;
}

/**
 * Re-encryption: the header's sealed `title` and `preview` replaced in place, compare-and-set on
 * both as read (null: absent). Leaves version, updatedAt, TTL and everything else alone.
 */
export interface NormalizedRewriteText extends ScopedRef {
  expected: { title: string | null; preview: string | null };
  title: string | null;
  preview: string | null;
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
 * A header as a store returns it. The fields added after the first contract may be left out by
 * a store that predates them; core fills them in (`runCount` is always `lastSeq`).
 */
export type StoredHeader = Omit<SessionHeader, 'runCount' | 'title' | 'preview' | 'usage' | 'summarySeq'> &
  Partial<Pick<SessionHeader, 'runCount' | 'title' | 'preview' | 'usage' | 'summarySeq'>>;

export interface StoredAppendResult {
  run: Run;
  created: boolean;
  session: StoredHeader;
}

export interface StoredHistory {
  session: StoredHeader | null;
  runs: Run[];
}

/** The header an application sees: every field present. */
export function completeHeader(h: StoredHeader): SessionHeader {
  // Object.assign, then the fields: V8 (Node 20) adds properties to a `{ ...h }` copy on a slow
  // path, microseconds per header. Same keys, same order.
  const out = Object.assign({}, h) as SessionHeader;
  out.summarySeq = h.summarySeq ?? 0;
  out.title = h.title ?? null;
  out.preview = h.preview ?? null;
  out.usage = h.usage ?? { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  out.runCount = h.lastSeq;
  return out;
}

/** A copy of a checked input with the call's time: what a `do*` primitive gets. */
export function withNow<T extends object>(input: T, now: number): T & { now: number } {
  // Object.assign, then `now`: see completeHeader.
  const out = Object.assign({}, input) as T & { now: number };
  out.now = now;
  return out;
}
