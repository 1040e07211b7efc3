import type { JsonObject, JsonValue, Run, RunStatus, SessionHeader, StoredHeader } from '@agent-sessions/core/store';
import { completeHeader } from '@agent-sessions/core/store';

// pg returns bigint columns as strings, PGlite as numbers: Number() reads both. Every time and
// counter the store writes is a JavaScript number, so it always fits.
type Int = string | number;

export interface HeaderRow {
  agent_id: string;
  session_id: string;
  user_id: string | null;
  created_at: Int;
  updated_at: Int;
  expires_at: Int | null;
  ttl_ms: Int | null;
  metadata: string;
  state: string;
  summary: string | null;
  version: Int;
  last_seq: Int;
  // Schema version 4; absent from the statements of earlier versions (core fills the defaults).
  title?: string | null;
  preview?: string | null;
  requests?: Int;
  input_tokens?: Int;
  output_tokens?: Int;
  total_tokens?: Int;
  summary_seq?: Int;
}

export interface RunRow {
  run_id: string;
  seq: Int;
  created_at: Int;
  status: string;
  format: string;
  items: string;
  usage: string | null;
  metadata: string | null;
}

/**
 * What the append statement returns (see `append` in sql.ts): the outcome, the header as one JSON
 * array (null when there is no session) and, for an idempotent retry, the stored run as one.
 */
export interface AppendRow {
  outcome: 'created' | 'exists' | 'expired' | 'denied' | 'stale' | 'retry';
  doc: string | null;
  run: string | null;
}

/** A row of readHistory: the header (kind 0), then the runs (kind 1), newest first, each as one JSON array. */
export interface HistoryRow {
  kind: Int;
  seq: Int | null;
  doc: string;
}

/** A header as `headerDoc` (sql.ts) sends it: the fields in this order, the last seven from schema version 4. */
type HeaderDoc = [
  agentId: string,
  sessionId: string,
  userId: string | null,
  createdAt: number,
  updatedAt: number,
  expiresAt: number | null,
  ttlMs: number | null,
  metadata: JsonObject,
  state: JsonObject,
  summary: string | null,
  version: number,
  lastSeq: number,
  title?: string | null,
  preview?: string | null,
  requests?: number,
  inputTokens?: number,
  outputTokens?: number,
  totalTokens?: number,
  summarySeq?: number,
];

/** The header of a `headerDoc` JSON text. */
export function headerFromDoc(doc: string): SessionHeader {
  const d = JSON.parse(doc) as HeaderDoc;
  const h: StoredHeader = {
    agentId: d[0],
    sessionId: d[1],
    userId: d[2],
    createdAt: Number(d[3]),
    updatedAt: Number(d[4]),
    expiresAt: d[5] === null ? null : Number(d[5]),
    ttlMs: d[6] === null ? null : Number(d[6]),
    metadata: d[7],
    state: d[8],
    summary: d[9],
    version: Number(d[10]),
    lastSeq: Number(d[11]),
  };
  if (d.length > 12) {
    h.title = d[12] ?? null;
    h.preview = d[13] ?? null;
    h.summarySeq = Number(d[18]);
    h.usage = { requests: Number(d[14]), inputTokens: Number(d[15]), outputTokens: Number(d[16]), totalTokens: Number(d[17]) };
  }
  return completeHeader(h);
}

/** The last_seq of a `headerDoc` JSON text, 0 without one. */
export function lastSeqOfDoc(doc: string | null): number {
  return doc === null ? 0 : Number((JSON.parse(doc) as HeaderDoc)[11] ?? 0);
}

/** A run as `runDoc` (sql.ts) sends it. */
type RunDoc = [runId: string, seq: number, createdAt: number, status: RunStatus, format: string, items: JsonValue[], usage: JsonObject | null, metadata: JsonObject | null];

/** The run of a `runDoc` JSON text. */
export function runFromDoc(doc: string): Run {
  const d = JSON.parse(doc) as RunDoc;
  return { runId: d[0], seq: Number(d[1]), createdAt: Number(d[2]), status: d[3], format: d[4], items: d[5], usage: d[6], metadata: d[7] };
}

/** A deleted header: its id, its newest seq, and the first batch of runs deleted with it. */
export interface DeletedRow {
  id: Int;
  last_seq: Int;
  n: Int;
  top: Int | null;
}

export interface PoppedRow {
  item: string | null;
  run_id: string;
  seq: Int;
  won: boolean;
}

export interface PruneRow {
  sessions: Int;
  dead_runs: Int;
  old_runs: Int;
}

const num = (v: Int | null): number | null => (v === null ? null : Number(v));
/** Text the SQL sent behind a '.' (see `dot` in sql.ts). */
export const undot = (v: string): string => v.slice(1);
const undotNull = (v: string | null): string | null => (v === null ? null : v.slice(1));

export function toHeader(r: HeaderRow): SessionHeader {
  const h: StoredHeader = {
    agentId: undot(r.agent_id),
    sessionId: undot(r.session_id),
    userId: undotNull(r.user_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    expiresAt: num(r.expires_at),
    ttlMs: num(r.ttl_ms),
    metadata: JSON.parse(r.metadata) as JsonObject,
    state: JSON.parse(r.state) as JsonObject,
    summary: undotNull(r.summary),
    version: Number(r.version),
    lastSeq: Number(r.last_seq),
  };
  if (r.summary_seq !== undefined) {
    h.title = undotNull(r.title ?? null);
    h.preview = undotNull(r.preview ?? null);
    h.summarySeq = Number(r.summary_seq);
    h.usage = {
      requests: Number(r.requests),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      totalTokens: Number(r.total_tokens),
    };
  }
  return completeHeader(h);
}

export function toRun(r: RunRow): Run {
  return {
    runId: undot(r.run_id),
    seq: Number(r.seq),
    createdAt: Number(r.created_at),
    status: r.status as RunStatus,
    format: undot(r.format),
    items: JSON.parse(r.items) as JsonValue[],
    usage: r.usage === null ? null : (JSON.parse(r.usage) as JsonObject),
    metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as JsonObject),
  };
}

/** JSON text for a `$n::text::json` parameter; null stays SQL NULL. */
export function jsonParam(value: JsonValue | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
