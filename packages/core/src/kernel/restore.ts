import { AgentSessionsError } from '../errors.js';
import { MAX_TTL_MS } from '../ttl.js';
import type { JsonObject, Run, SessionRef, UsageTotals } from '../types.js';
import { MAX_PREVIEW_LENGTH, MAX_TITLE_LENGTH } from '../types.js';
import { assertId, assertStatus, assertTime, snapshotItems, snapshotObject } from '../validate.js';
import { boundedText, scopedRef, usageTotals } from './inputs.js';
import type { NormalizedImport } from './normalized.js';

/** A whole session to write at once (see `SessionStore.restoreSession`). */
export interface RestoreSessionInput extends SessionRef {
  header?: {
    createdAt?: number | undefined;
    updatedAt?: number | undefined;
    ttlMs?: number | null | undefined;
    expiresAt?: number | null | undefined;
    metadata?: JsonObject | undefined;
    state?: JsonObject | undefined;
    summary?: string | null | undefined;
    summarySeq?: number | undefined;
    title?: string | null | undefined;
    preview?: string | null | undefined;
    usage?: Partial<UsageTotals> | undefined;
    /** The newest seq; must be the last run's when there are runs. Default: the last run's, else 0. */
    lastSeq?: number | undefined;
  } | undefined;
  /** Oldest first, seqs consecutive. */
  runs: readonly Run[];
}

const bad = (message: string, source: string): AgentSessionsError => new AgentSessionsError('invalid_input', message, { source });

function wholeNumber(v: unknown, what: string, source: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(`${what} must be a whole number ≥ ${min}, got ${String(v)}`, source);
  return v;
}

/** Checks and copies a restore: runs consecutive and whole, run ids unique, header fields in range. */
export function restoreInput(input: RestoreSessionInput, source: string): Omit<NormalizedImport, 'now'> {
  const ref = scopedRef(input, source);
  if (!Array.isArray(input.runs)) throw bad('runs must be an array', source);
  const h = input.header ?? {};
  const now = Date.now();
  const runs: Run[] = [];
  const ids = new Set<string>();
  let prev: number | null = null;
  for (const [i, r] of input.runs.entries()) {
    if (typeof r !== 'object' || r === null) throw bad(`runs[${i}] must be an object`, source);
    const seq = wholeNumber(r.seq, `runs[${i}].seq`, source, 1);
    if (prev !== null && seq !== prev + 1) throw bad(`runs[${i}] has seq ${seq} after ${prev}: seqs must be consecutive`, source);
    prev = seq;
    assertId(r.runId, `runs[${i}].runId`, source);
    if (ids.has(r.runId)) throw bad(`runs[${i}] repeats runId '${r.runId}'`, source);
    ids.add(r.runId);
    assertStatus(r.status, source);
    assertId(r.format, `runs[${i}].format`, source);
    assertTime(r.createdAt, `runs[${i}].createdAt`, source);
    runs.push({
      runId: r.runId,
      seq,
      createdAt: Math.floor(r.createdAt),
      status: r.status,
      format: r.format,
      items: snapshotItems(r.items, source),
      usage: r.usage == null ? null : snapshotObject(r.usage, `runs[${i}].usage`, source),
      metadata: r.metadata == null ? null : snapshotObject(r.metadata, `runs[${i}].metadata`, source),
    });
  }
  const last = runs[runs.length - 1]?.seq;
  const lastSeq = h.lastSeq === undefined ? (last ?? 0) : wholeNumber(h.lastSeq, 'header.lastSeq', source);
  if (last !== undefined && lastSeq !== last) throw bad(`header.lastSeq ${lastSeq} is not the last run's seq ${last}`, source);
  const createdAt = h.createdAt ?? runs[0]?.createdAt ?? now;
  const updatedAt = h.updatedAt ?? runs[runs.length - 1]?.createdAt ?? createdAt;
  assertTime(createdAt, 'header.createdAt', source);
  assertTime(updatedAt, 'header.updatedAt', source);
  const ttlMs = h.ttlMs === undefined || h.ttlMs === null ? null : wholeNumber(h.ttlMs, 'header.ttlMs', source, 1);
  if (ttlMs !== null && ttlMs > MAX_TTL_MS) throw bad(`header.ttlMs is longer than the limit of ${MAX_TTL_MS} ms`, source);
  const expiresAt = h.expiresAt === undefined || h.expiresAt === null ? null : wholeNumber(h.expiresAt, 'header.expiresAt', source);
  if (expiresAt !== null && expiresAt > now + MAX_TTL_MS) throw bad('header.expiresAt is further away than the longest TTL', source);
  const summary = h.summary ?? null;
  if (summary !== null && typeof summary !== 'string') throw bad('header.summary must be a string or null', source);
  const usage = usageTotals(h.usage);
  return {
    ...ref,
    runs,
    lastSeq,
    header: {
      createdAt: Math.floor(createdAt),
      updatedAt: Math.floor(updatedAt),
      ttlMs,
      expiresAt,
      metadata: h.metadata === undefined ? {} : snapshotObject(h.metadata, 'header.metadata', source),
      state: h.state === undefined ? {} : snapshotObject(h.state, 'header.state', source),
      summary,
      summarySeq: h.summarySeq === undefined ? 0 : wholeNumber(h.summarySeq, 'header.summarySeq', source),
      title: h.title == null ? null : boundedText(h.title, 'header.title', MAX_TITLE_LENGTH, source),
      preview: h.preview == null ? null : boundedText(h.preview, 'header.preview', MAX_PREVIEW_LENGTH, source),
      usage,
    },
  };
}
