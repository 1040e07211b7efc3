import type { JsonObject, JsonValue, Run, RunStatus, ScopedRef, SessionHeader, UsageTotals } from '@agent-sessions/core/store';
import { completeHeader } from '@agent-sessions/core/store';
import { corrupt } from './errors.js';

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
  // Added with contract v2: absent from older hashes, which read as the defaults.
  'title',
  'preview',
  'usage',
  'summarySeq',
] as const;

/** How many header fields the scripts read and reply with. */
export const HEADER_SIZE = HEADER_FIELDS.length;

export type Reply = (string | null)[];

type Ref = Pick<ScopedRef, 'agentId' | 'sessionId'>;

function whole(v: string | null | undefined, name: string, ref: Ref): number {
  const n = Number(v);
  if (v === null || v === undefined || v === '' || !Number.isSafeInteger(n) || n < 0) throw corrupt(ref, `header field '${name}'`);
  return n;
}

function object(v: string | null | undefined, name: string, ref: Ref): JsonObject {
  if (v === null || v === undefined || v === '{}') return {};
  try {
    const o = JSON.parse(v) as unknown;
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) return o as JsonObject;
  } catch (err) {
    throw corrupt(ref, `header field '${name}'`, null, err);
  }
  throw corrupt(ref, `header field '${name}'`);
}

/** Usage totals as stored: `requests,inputTokens,outputTokens,totalTokens` (summed in Lua without JSON). */
export function encodeUsage(u: UsageTotals): string {
  return `${u.requests},${u.inputTokens},${u.outputTokens},${u.totalTokens}`;
}

function usage(v: string | null, ref: Ref): UsageTotals | undefined {
  if (v === null) return undefined;
  const p = v.split(',').map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isFinite(n) || n < 0)) throw corrupt(ref, "header field 'usage'");
  return { requests: p[0] as number, inputTokens: p[1] as number, outputTokens: p[2] as number, totalTokens: p[3] as number };
}

/**
 * A reply of the read or append script, whose header comes as one JSON array of the 16 fields
 * (false: absent) after the status, in the layout of the other scripts' replies: the status,
 * the 16 fields, then the rest as sent.
 */
export function unpackHeader(reply: Reply, ref: Ref): Reply {
  let fields: unknown;
  try {
    fields = JSON.parse(reply[1] as string);
  } catch (err) {
    throw corrupt(ref, 'header', null, err);
  }
  if (!Array.isArray(fields) || fields.length !== HEADER_SIZE) throw corrupt(ref, 'header');
  const out: Reply = new Array<string | null>(reply.length - 1 + HEADER_SIZE);
  out[0] = reply[0] as string;
  for (let i = 0; i < HEADER_SIZE; i++) {
    const v: unknown = fields[i];
    out[i + 1] = typeof v === 'string' ? v : null;
  }
  for (let i = 2; i < reply.length; i++) out[i + HEADER_SIZE - 1] = reply[i] as string | null;
  return out;
}

/**
 * A header from the HMGET values of HEADER_FIELDS starting at `at`, or null when the hash does
 * not exist. A malformed field fails with a typed error naming the session (see `corrupt`).
 */
export function decodeHeader(f: Reply, ref: Ref, at = 0): SessionHeader | null {
  const get = (i: number): string | null => f[at + i] ?? null;
  const version = get(10);
  if (version === null) {
    for (let i = 0; i < HEADER_SIZE; i++) if (get(i) !== null) throw corrupt(ref, "header field 'version'");
    return null;
  }
  const expiresAt = get(5);
  const ttlMs = get(6);
  const summarySeq = get(15);
  return completeHeader({
    agentId: get(0) ?? ref.agentId,
    sessionId: get(1) ?? ref.sessionId,
    userId: get(2),
    createdAt: whole(get(3), 'createdAt', ref),
    updatedAt: whole(get(4), 'updatedAt', ref),
    expiresAt: expiresAt === null ? null : whole(expiresAt, 'expiresAt', ref),
    ttlMs: ttlMs === null ? null : whole(ttlMs, 'ttlMs', ref),
    metadata: object(get(7), 'metadata', ref),
    state: object(get(8), 'state', ref),
    summary: get(9),
    version: whole(version, 'version', ref),
    lastSeq: whole(get(11), 'lastSeq', ref),
    title: get(12),
    preview: get(13),
    usage: usage(get(14), ref),
    summarySeq: summarySeq === null ? 0 : whole(summarySeq, 'summarySeq', ref),
  });
}

interface RunMeta {
  createdAt: number;
  status: RunStatus;
  format: string;
  usage: JsonObject | null;
  metadata: JsonObject | null;
}

/**
 * A run as stored: `runId`, then a JSON array of the run's fields and its items, one element
 * per line: `runId \n [meta \n ,item \n ,item]`. The part after the run id is JSON as it is
 * (one JSON.parse, no copy), and since JSON.stringify never emits a raw newline and ids cannot
 * hold one, popItem can still cut the last item off in Lua by position without decoding
 * anything.
 *
 * Runs written before this layout hold `runId \n meta \n item \n item` (no brackets, no
 * commas); they are read, popped and rewritten as they are (see decodeRun, lua/pop.ts,
 * lua/rewrite.ts): nothing to migrate. The two cannot be confused: the old layout's second
 * line is a JSON object, the new one's starts with `[`.
 */
export function encodeRun(runId: string, meta: RunMeta, items: JsonValue[]): string {
  let blob = `${runId}\n[${JSON.stringify(meta)}`;
  for (const item of items) blob += `\n,${JSON.stringify(item)}`;
  return `${blob}]`;
}

/**
 * Decodes a stored run (either layout, see encodeRun) with one JSON.parse. A malformed run fails
 * with a typed error naming its session and seq.
 */
export function decodeRun(seq: number, blob: string | null | undefined, ref: Ref): Run {
  if (typeof blob !== 'string') throw corrupt(ref, 'run', seq);
  const nl = blob.indexOf('\n');
  let parts: unknown;
  try {
    if (nl < 0) parts = null;
    else if (blob.charCodeAt(nl + 1) === 0x5b) parts = JSON.parse(blob.slice(nl + 1));
    else parts = JSON.parse(`[${blob.slice(nl + 1).replaceAll('\n', ',')}]`);
  } catch (err) {
    throw corrupt(ref, 'run', seq, err);
  }
  const list = parts as [RunMeta, ...JsonValue[]] | null;
  const meta = list?.[0];
  if (!Array.isArray(list) || list.length < 2 || typeof meta !== 'object' || meta === null || typeof meta.createdAt !== 'number') {
    throw corrupt(ref, 'run', seq);
  }
  // The parsed array becomes the items once its first element is taken off (no copy).
  list.shift();
  return {
    runId: blob.slice(0, nl),
    seq,
    createdAt: meta.createdAt,
    status: meta.status,
    format: meta.format,
    items: list as JsonValue[],
    usage: meta.usage ?? null,
    metadata: meta.metadata ?? null,
  };
}
