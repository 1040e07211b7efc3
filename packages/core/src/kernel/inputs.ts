import { decodeCursor } from '../cursor.js';
import { AgentSessionsError } from '../errors.js';
import { generateRunId } from '../ids.js';
import { parseDuration, ttlToMs } from '../ttl.js';
import type {
  AppendRunInput,
  CreateSessionInput,
  Duration,
  ListRunsInput,
  ListSessionsInput,
  PruneInput,
  SessionRef,
  UpdateSessionInput,
  UsageTotals,
  UserDataInput,
} from '../types.js';
import { MAX_PREVIEW_LENGTH, MAX_TITLE_LENGTH } from '../types.js';
import {
  assertId,
  assertLimit,
  assertOptionalId,
  assertStatus,
  assertTime,
  snapshotItems,
  snapshotJson,
  snapshotObject,
} from '../validate.js';
import {
  MAX_PAGE,
  type NormalizedAppend,
  type NormalizedCreate,
  type NormalizedList,
  type NormalizedListRuns,
  type NormalizedPatch,
  type NormalizedUpdate,
  type NormalizedWrite,
  type ScopedRef,
} from './normalized.js';

// Every public input is checked here, before anything reaches a store, and copied: what was
// checked is exactly what the store writes. Times and expiries are added at call time.

export function scopedRef(input: SessionRef, source: string): ScopedRef {
  if (typeof input !== 'object' || input === null) {
    throw new AgentSessionsError('invalid_input', 'expected an object with agentId and sessionId', { source });
  }
  assertId(input.agentId, 'agentId', source);
  assertId(input.sessionId, 'sessionId', source);
  assertOptionalId(input.userId, 'userId', source);
  return { agentId: input.agentId, sessionId: input.sessionId, userId: input.userId ?? null };
}

/** A TTL option in ms (1 ms to MAX_TTL_MS), null, or undefined, with the store as the error's source. */
export function ttlInput(value: Duration | null | undefined, source: string): number | null | undefined {
  try {
    return ttlToMs(value);
  } catch (err) {
    throw new AgentSessionsError('invalid_input', (err as Error).message.replace(/^\[agent-sessions\] /, ''), { source });
  }
}

type Timeless<T> = Omit<T, 'now' | 'expiresAt' | 'defaultExpiresAt' | 'defaultTtlMs'>;

/** A checked append with its call-time fields: what `doAppendRun` gets. */
export function appendAt(
  c: Timeless<NormalizedAppend>,
  now: number,
  defaultTtlMs: number | null,
  expiresAt: number | null | undefined,
  defaultExpiresAt: number | null,
): NormalizedAppend {
  return {
    agentId: c.agentId,
    sessionId: c.sessionId,
    userId: c.userId,
    runId: c.runId,
    status: c.status,
    format: c.format,
    items: c.items,
    usage: c.usage,
    metadata: c.metadata,
    sessionMetadata: c.sessionMetadata,
    ttlMs: c.ttlMs,
    expectedLastSeq: c.expectedLastSeq,
    title: c.title,
    preview: c.preview,
    usageDelta: c.usageDelta,
    now,
    defaultTtlMs,
    expiresAt,
    defaultExpiresAt,
  };
}

/** A checked run read at `now`: what `doListRuns` and `doReadHistory` get. */
export function listRunsAt(c: Omit<NormalizedListRuns, 'now'>, now: number): NormalizedListRuns {
  return { agentId: c.agentId, sessionId: c.sessionId, userId: c.userId, limit: c.limit, beforeSeq: c.beforeSeq, touch: c.touch, now };
}

/** A checked reference at `now`: what `doDeleteSession` and `doPopItem` get. */
export function writeAt(ref: ScopedRef, now: number): NormalizedWrite {
  return { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, now };
}

export function appendInput(input: AppendRunInput, source: string): Timeless<NormalizedAppend> {
  const ref = scopedRef(input, source);
  const runId = input.runId ?? generateRunId();
  assertId(runId, 'runId', source);
  const status = input.status ?? 'completed';
  assertStatus(status, source);
  assertId(input.format, 'format', source);
  const expected = input.expectedLastSeq;
  if (expected !== undefined && (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected < 0)) {
    throw new AgentSessionsError('invalid_input', `expectedLastSeq must be a whole number ≥ 0, got ${String(expected)}`, { source });
  }
  // Literals throughout, not `{ ...ref, more }`: V8 (Node 20) builds a spread followed by new
  // properties on a slow path, microseconds per object on every call.
  return {
    agentId: ref.agentId,
    sessionId: ref.sessionId,
    userId: ref.userId,
    runId,
    status,
    format: input.format,
    items: snapshotItems(input.items, source),
    usage: input.usage == null ? null : snapshotObject(input.usage, 'usage', source),
    metadata: input.metadata == null ? null : snapshotObject(input.metadata, 'metadata', source),
    sessionMetadata: input.sessionMetadata === undefined ? {} : snapshotObject(input.sessionMetadata, 'sessionMetadata', source),
    ttlMs: ttlInput(input.ttl, source),
    expectedLastSeq: expected ?? null,
    title: input.title === undefined ? null : boundedText(input.title, 'title', MAX_TITLE_LENGTH, source),
    preview: input.preview === undefined ? null : boundedText(input.preview, 'preview', MAX_PREVIEW_LENGTH, source),
    usageDelta: usageTotals(input.usage),
  };
}

const USAGE_KEYS = ['requests', 'inputTokens', 'outputTokens', 'totalTokens'] as const;
const SNAKE = { requests: 'requests', inputTokens: 'input_tokens', outputTokens: 'output_tokens', totalTokens: 'total_tokens' } as const;

/** The numbers a run adds to its session's usage totals: positive finite values of the four keys (camelCase or snake_case), else 0. */
export function usageTotals(usage: unknown): UsageTotals {
  const out: UsageTotals = { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  if (typeof usage !== 'object' || usage === null) return out;
  const u = usage as Record<string, unknown>;
  for (const k of USAGE_KEYS) {
    // camelCase (OpenAI Agents) or snake_case (LangChain's usage_metadata).
    const v = u[k] ?? u[SNAKE[k]];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[k] = v;
  }
  return out;
}

/**
 * A one-line text for a list: whitespace folded, trimmed, cut to `max` UTF-16 units at a
 * character boundary with an ellipsis. Null for a text left empty.
 */
export function boundedText(value: unknown, what: string, max: number, source: string): string | null {
  if (typeof value !== 'string') throw new AgentSessionsError('invalid_input', `${what} must be a string`, { source });
  snapshotJson(value, what, source);
  const text = value.replace(/\s+/g, ' ').trim();
  if (text.length === 0) return null;
  if (text.length <= max) return text;
  let cut = max - 1;
  // Never split a surrogate pair.
  if (/[\ud800-\udbff]/.test(text.charAt(cut - 1))) cut -= 1;
  return `${text.slice(0, cut).trimEnd()}…`;
}

export function patchInput(input: SessionRef & { title?: unknown }, source: string, rename: boolean): Omit<NormalizedPatch, 'now'> {
  const ref = scopedRef(input, source);
  if (!rename) return { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, title: undefined, touch: true };
  if (!('title' in input)) throw new AgentSessionsError('invalid_input', 'renameSession needs a title (null clears it)', { source });
  const title = input.title === null ? null : boundedText(input.title, 'title', MAX_TITLE_LENGTH, source);
  return { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, title, touch: false };
}

export function userListInput(input: UserDataInput, source: string): { userId: string; agentId: string | null } {
  if (typeof input !== 'object' || input === null) throw new AgentSessionsError('invalid_input', 'expected an object with userId', { source });
  assertId(input.userId, 'userId', source);
  assertOptionalId(input.agentId, 'agentId', source);
  return { userId: input.userId, agentId: input.agentId ?? null };
}

export function listRunsInput(input: ListRunsInput, source: string, touch: boolean): Omit<NormalizedListRuns, 'now'> {
  const ref = scopedRef(input, source);
  assertLimit(input.limit, 'limit', MAX_PAGE, source);
  if (input.beforeSeq !== undefined) assertLimit(input.beforeSeq, 'beforeSeq', Number.MAX_SAFE_INTEGER, source);
  return { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, limit: input.limit, beforeSeq: input.beforeSeq ?? null, touch };
}

export function createInput(input: CreateSessionInput, source: string, defaultTtlMs: number | null): Timeless<NormalizedCreate> {
  const ref = scopedRef(input, source);
  const metadata = input.metadata === undefined ? {} : snapshotObject(input.metadata, 'metadata', source);
  const state = input.state === undefined ? {} : snapshotObject(input.state, 'state', source);
  const ttl = ttlInput(input.ttl, source);
  return { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, metadata, state, ttlMs: ttl === undefined ? defaultTtlMs : ttl };
}

export function updateInput(input: UpdateSessionInput, source: string): Omit<NormalizedUpdate, 'now'> {
  const ref = scopedRef(input, source);
  assertLimit(input.expectedVersion, 'expectedVersion', Number.MAX_SAFE_INTEGER, source);
  const metadata = input.metadata === undefined ? undefined : snapshotObject(input.metadata, 'metadata', source);
  const state = input.state === undefined ? undefined : snapshotObject(input.state, 'state', source);
  const summary = input.summary;
  if (summary !== undefined && summary !== null && typeof summary !== 'string') {
    throw new AgentSessionsError('invalid_input', 'summary must be a string or null', { source });
  }
  if (summary) snapshotJson(summary, 'summary', source);
  let summarySeq = input.summarySeq;
  if (summarySeq !== undefined) {
    if (summary === undefined) throw new AgentSessionsError('invalid_input', 'summarySeq goes with summary', { source });
    if (typeof summarySeq !== 'number' || !Number.isSafeInteger(summarySeq) || summarySeq < 0) {
      throw new AgentSessionsError('invalid_input', `summarySeq must be a whole number ≥ 0, got ${String(summarySeq)}`, { source });
    }
  } else if (summary !== undefined) {
    summarySeq = summary === null ? 0 : undefined;
  }
  return { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, expectedVersion: input.expectedVersion, metadata, state, summary, summarySeq };
}

export function listInput(input: ListSessionsInput, source: string): Omit<NormalizedList, 'now'> & { limit: number } {
  if (typeof input !== 'object' || input === null) throw new AgentSessionsError('invalid_input', 'expected an object with agentId', { source });
  assertId(input.agentId, 'agentId', source);
  assertOptionalId(input.userId, 'userId', source);
  const limit = input.limit ?? 20;
  assertLimit(limit, 'limit', MAX_PAGE, source);
  if (input.updatedAfter !== undefined) assertTime(input.updatedAfter, 'updatedAfter', source);
  if (input.updatedBefore !== undefined) assertTime(input.updatedBefore, 'updatedBefore', source);
  return {
    agentId: input.agentId,
    userId: input.userId ?? null,
    limit,
    fetchLimit: limit + 1,
    cursor: input.cursor ? decodeCursor(input.cursor, source) : null,
    updatedAfter: input.updatedAfter ?? null,
    updatedBefore: input.updatedBefore ?? null,
    metadata: metadataFilter(input.metadata, source),
  };
}

function metadataFilter(value: unknown, source: string): { [key: string]: string | number | boolean } | null {
  if (value === undefined) return null;
  const filter = snapshotObject(value, 'metadata filter', source);
  const keys = Object.keys(filter);
  if (keys.length === 0) return null;
  for (const k of keys) {
    const v = filter[k];
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new AgentSessionsError('invalid_input', `metadata filter '${k}' must be a string, number or boolean`, { source });
    }
  }
  return filter as { [key: string]: string | number | boolean };
}

export function pruneInput(input: PruneInput, source: string): { agentId: string | null; ageMs: number | null } {
  if (typeof input !== 'object' || input === null) throw new AgentSessionsError('invalid_input', 'prune takes an options object', { source });
  assertOptionalId(input.agentId, 'agentId', source);
  let ageMs: number | null = null;
  try {
    if (input.runsOlderThan !== undefined) ageMs = parseDuration(input.runsOlderThan, 'runsOlderThan');
  } catch (err) {
    throw new AgentSessionsError('invalid_input', (err as Error).message.replace(/^\[agent-sessions\] /, ''), { source });
  }
  return { agentId: input.agentId ?? null, ageMs };
}
