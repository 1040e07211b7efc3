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

/** What the append statement returns (see sql.ts). */
export type AppendRow = HeaderRow & {
  outcome: 'created' | 'exists' | 'expired' | 'denied' | 'stale' | 'retry';
  run_seq: Int | null;
  run_created_at: Int | null;
  run_status: string | null;
  run_format: string | null;
  run_items: string | null;
  run_usage: string | null;
  run_metadata: string | null;
};

/** A row of readHistory: the header (kind 0), then the runs (kind 1), newest first. */
export type HistoryRow = HeaderRow & {
  kind: Int;
  run_id: string;
  seq: Int;
  run_created_at: Int;
  status: string;
  format: string;
  items: string;
  usage: string | null;
  run_metadata: string | null;
};

export function historyRun(r: HistoryRow): Run {
  return {
    runId: undot(r.run_id),
    seq: Number(r.seq),
    createdAt: Number(r.run_created_at),
    status: r.status as RunStatus,
    format: undot(r.format),
    items: JSON.parse(r.items) as JsonValue[],
    usage: r.usage === null ? null : (JSON.parse(r.usage) as JsonObject),
    metadata: r.run_metadata === null ? null : (JSON.parse(r.run_metadata) as JsonObject),
  };
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

/** The stored run an idempotent retry of the append found. */
export function existingRun(row: AppendRow, runId: string): Run {
  return toRun({
    run_id: `.${runId}`,
    seq: row.run_seq as Int,
    created_at: row.run_created_at as Int,
    status: row.run_status as string,
    format: row.run_format as string,
    items: row.run_items as string,
    usage: row.run_usage,
    metadata: row.run_metadata,
  });
}

/** JSON text for a `$n::text::json` parameter; null stays SQL NULL. */
export function jsonParam(value: JsonValue | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
