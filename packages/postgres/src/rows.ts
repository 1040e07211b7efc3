import type { JsonObject, JsonValue, Run, RunStatus, SessionHeader } from '@agent-sessions/core/store';

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

const num = (v: Int | null): number | null => (v === null ? null : Number(v));

export function toHeader(r: HeaderRow): SessionHeader {
  return {
    agentId: r.agent_id,
    sessionId: r.session_id,
    userId: r.user_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    expiresAt: num(r.expires_at),
    ttlMs: num(r.ttl_ms),
    metadata: JSON.parse(r.metadata) as JsonObject,
    state: JSON.parse(r.state) as JsonObject,
    summary: r.summary,
    version: Number(r.version),
    lastSeq: Number(r.last_seq),
  };
}

export function toRun(r: RunRow): Run {
  return {
    runId: r.run_id,
    seq: Number(r.seq),
    createdAt: Number(r.created_at),
    status: r.status as RunStatus,
    format: r.format,
    items: JSON.parse(r.items) as JsonValue[],
    usage: r.usage === null ? null : (JSON.parse(r.usage) as JsonObject),
    metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as JsonObject),
  };
}

/** JSON text for a `$n::text::jsonb` parameter; null stays SQL NULL. */
export function jsonParam(value: JsonValue | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
