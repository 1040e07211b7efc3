import type { JsonObject, JsonValue, Run, RunStatus, SessionHeader } from '@agent-sessions/core/store';

/** Header hash fields, in the order the Lua scripts read them (HMGET). */
export const HEADER_FIELDS = [
  'agentId',
  'sessionId',
  'userId',
  'createdAt',
  'updatedAt',
  'expiresAt',
  'ttlMs',
  'metadata',
  'state',
  'summary',
  'version',
  'lastSeq',
] as const;

export type Reply = (string | null)[];

const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** A header from 12 HMGET values starting at `at`, or null when the hash does not exist. */
export function decodeHeader(f: Reply, at = 0): SessionHeader | null {
  const get = (i: number): string | null => f[at + i] ?? null;
  const version = get(10);
  if (version === null) return null;
  return {
    agentId: get(0) as string,
    sessionId: get(1) as string,
    userId: get(2),
    createdAt: Number(get(3)),
    updatedAt: Number(get(4)),
    expiresAt: num(get(5)),
    ttlMs: num(get(6)),
    metadata: JSON.parse(get(7) ?? '{}') as JsonObject,
    state: JSON.parse(get(8) ?? '{}') as JsonObject,
    summary: get(9),
    version: Number(version),
    lastSeq: Number(get(11)),
  };
}

interface RunMeta {
  createdAt: number;
  status: RunStatus;
  format: string;
  usage: JsonObject | null;
  metadata: JsonObject | null;
}

/**
 * A run as stored: `runId`, the run's fields as JSON, then one JSON text per item, joined by
 * newlines. JSON.stringify never emits a raw newline and ids cannot hold one, so the parts split
 * back exactly, and popItem can cut the last item off in Lua without decoding anything.
 */
export function encodeRun(runId: string, meta: RunMeta, items: JsonValue[]): string {
  return [runId, JSON.stringify(meta), ...items.map((i) => JSON.stringify(i))].join('\n');
}

export function decodeRun(seq: number, blob: string): Run {
  const parts = blob.split('\n');
  const meta = JSON.parse(parts[1] as string) as RunMeta;
  return {
    runId: parts[0] as string,
    seq,
    createdAt: meta.createdAt,
    status: meta.status,
    format: meta.format,
    items: parts.slice(2).map((p) => JSON.parse(p) as JsonValue),
    usage: meta.usage,
    metadata: meta.metadata,
  };
}
