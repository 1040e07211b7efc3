import { AgentSessionsError, type NormalizedAppend, type NormalizedCreate, type NormalizedImport, type NormalizedList, type NormalizedListRuns, type NormalizedUpdate, type NormalizedUserList } from '@agent-sessions/core/store';
import type { SqlRunner } from './client.js';
import { jsonParam } from './rows.js';
import { IMPORT_BATCH, WINDOW_BEFORE, WINDOW_LIMIT, importRunsJson, type Statements } from './sql.js';

// What the store sends with its statements: parameter lists in the order sql.ts reads them, and
// the window read's text per shape.

const WINDOW_BEFORE_RE = new RegExp(`${WINDOW_BEFORE.replace(/[/*]/g, '\\$&')}(\\w+)\\*/`, 'g');

/** $1 agent, $2 session, $3 user, $4 now, then beforeSeq when given, then the limit unless it is in the text (see PostgresStore.window). */
export function windowParams(input: NormalizedListRuns, literalLimit: boolean): unknown[] {
  const params: unknown[] = [input.agentId, input.sessionId, input.userId, input.now];
  if (input.beforeSeq !== null) params.push(input.beforeSeq);
  if (!literalLimit) params.push(input.limit);
  return params;
}

/** The append statement's parameters (see sql.ts `append`); `full`: schema version 4 columns too. */
export function appendParams(input: NormalizedAppend, full: boolean): unknown[] {
  const explicit = input.expiresAt !== undefined;
const params: unknown[] = [
    input.agentId,
    input.sessionId,
    input.userId,
    input.now,
    explicit ? input.ttlMs : input.defaultTtlMs,
    explicit ? input.expiresAt : input.defaultExpiresAt,
    explicit,
    JSON.stringify(input.sessionMetadata),
    input.runId,
    input.status,
    input.format,
    JSON.stringify(input.items),
    jsonParam(input.usage),
    jsonParam(input.metadata),
    input.expectedLastSeq,
  ];
if (full) {
    const u = input.usageDelta;
    params.push(input.title, input.preview, u.requests, u.inputTokens, u.outputTokens, u.totalTokens);
  }
  return params;
}

/** The window read's text for each shape, made once (see `text`). */
export class WindowTexts {
  private readonly texts = new Map<string, string>();
  constructor(
    private readonly q: () => Statements,
    readonly literalLimit: boolean,
  ) {}

  /** Forget the texts (the statements changed after a migration). */
  clear(): void {
    this.texts.clear();
  }

  /**
   * A window read's text, with or without `beforeSeq` (its test is there only when given). On
   * PGlite the limit is written into the text (core bounds it to 1..1000; a store sees few
   * distinct limits), so the statement settles on a generic plan and is not planned per call.
   * On a server it stays a parameter, so the server plans the read for each call: a generic
   * plan there, made from statistics of many short sessions, read a 10,000-run session's whole
   * index range and sorted it (the benchmark's read at 10,000 runs went 0.54 → 8.47 ms; see the
   * package README).
   */
  text(kind: 'listRuns' | 'listRunsTouch' | 'readHistory' | 'readHistoryTouch', input: NormalizedListRuns): string {
    const before = input.beforeSeq !== null;
    const key = `${kind}:${before ? 'b' : ''}${this.literalLimit ? input.limit : '$'}`;
    let text = this.texts.get(key);
    if (text === undefined) {
      const limit = input.limit;
      if (!Number.isInteger(limit) || limit < 0) throw new AgentSessionsError('invalid_input', 'limit must be a whole number', { source: 'postgres' });
      text = this.q()[kind]
        .replace(WINDOW_BEFORE_RE, (_m, header: string) => (before ? 'AND x.seq < $5::bigint' : `AND x.seq <= ${header}.last_seq`))
        .replaceAll(WINDOW_LIMIT, this.literalLimit ? `LIMIT ${limit}` : `LIMIT $${before ? 6 : 5}::integer`);
      this.texts.set(key, text);
    }
    return text;
  }
}

/**
 * restoreSession's parameters. A session of more than IMPORT_BATCH runs has all but its last
 * batch written first, under a header id reserved for them (no header points to them yet, so no
 * reader sees them); `reserved` is that id, for the statement that writes the header last.
 */
export async function writeRunsAhead(
  sql: SqlRunner,
  q: Statements,
  input: NormalizedImport,
  live: () => Promise<unknown>,
  exists: () => Error,
): Promise<{ reserved: number | null; params: unknown[] }> {
  const runs = input.runs;
  let reserved: number | null = null;
  let last = 0;
  if (runs.length > IMPORT_BATCH) {
    // Fail early, before writing many runs, when a live session has the id.
    if (await live()) throw exists();
    const [row] = await sql.query<{ id: string | number }>(q.reserveId, []);
    reserved = Number(row?.id);
    last = Math.floor((runs.length - 1) / IMPORT_BATCH) * IMPORT_BATCH;
    for (let at = 0; at < last; at += IMPORT_BATCH) {
      await sql.query(q.importRuns, [reserved, importRunsJson(runs, at, at + IMPORT_BATCH)]);
    }
  }
  const h = input.header;
  const params = [
    input.agentId,
    input.sessionId,
    input.userId,
    input.now,
    h.createdAt,
    h.updatedAt,
    h.expiresAt,
    h.ttlMs,
    JSON.stringify(h.metadata),
    JSON.stringify(h.state),
    h.summary,
    h.summarySeq,
    h.title,
    h.preview,
    h.usage.requests,
    h.usage.inputTokens,
    h.usage.outputTokens,
    h.usage.totalTokens,
    input.lastSeq,
    importRunsJson(runs, last, runs.length),
    reserved,
  ];
  return { reserved, params };
}

/** Keeps a time inside what a bigint column (and a JS number) holds exactly. */
export const bound = (ms: number): number => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, ms));

export function createParams(input: NormalizedCreate): unknown[] {
  return [input.agentId, input.sessionId, input.userId, input.now, input.ttlMs, input.expiresAt, JSON.stringify(input.metadata), JSON.stringify(input.state)];
}

/** `full`: schema version 4 (summary_seq). */
export function updateParams(input: NormalizedUpdate, full: boolean): unknown[] {
  return [
    input.agentId,
    input.sessionId,
    input.userId,
    input.now,
    input.expectedVersion,
    input.metadata !== undefined,
    jsonParam(input.metadata),
    input.state !== undefined,
    jsonParam(input.state),
    input.summary !== undefined,
    input.summary ?? null,
    ...(full ? [input.summarySeq !== undefined, input.summarySeq ?? null] : []),
  ];
}

/** The listing's parameters and which optional conditions its text needs. */
export function listParams(input: NormalizedList): {
  params: unknown[];
  shape: { user: boolean; after: boolean; before: boolean; cursor: boolean; metadata: boolean };
} {
  const params: unknown[] = [input.agentId, input.now];
  if (input.userId !== null) params.push(input.userId);
  if (input.metadata !== null) params.push(JSON.stringify(input.metadata));
  // updated_at is a whole number: `>= 1.5` is `>= 2` and `< 1.5` is `< 2`.
  if (input.updatedAfter !== null) params.push(bound(Math.ceil(input.updatedAfter)));
  if (input.updatedBefore !== null) params.push(bound(Math.ceil(input.updatedBefore)));
  if (input.cursor) {
    const { updatedAt, sessionId } = input.cursor;
    // A cursor with a fractional time (not one we issued) means "updated_at < ceil(t)".
    if (Number.isInteger(updatedAt)) params.push(bound(updatedAt), sessionId);
    else params.push(bound(Math.ceil(updatedAt)), '');
  }
  params.push(input.fetchLimit);
  const shape = {
    user: input.userId !== null,
    after: input.updatedAfter !== null,
    before: input.updatedBefore !== null,
    cursor: input.cursor !== null,
    metadata: input.metadata !== null,
  };
  return { params, shape };
}

export function userListParams(input: NormalizedUserList): unknown[] {
  const params: unknown[] = [input.userId, input.now];
  if (input.agentId !== null) params.push(input.agentId);
  if (input.after !== null) params.push(input.after.agentId, input.after.sessionId);
  params.push(input.limit);
  return params;
}
