import { AgentSessionsError, type NormalizedAppend, type NormalizedCreate, type NormalizedImport, type NormalizedList, type NormalizedListRuns, type NormalizedUpdate, type NormalizedUserList } from '@agent-sessions/core/store';
import type { SqlRunner } from './client.js';
import { jsonParam } from './rows.js';
import { IMPORT_BATCH, WINDOW, importRunsJson, type Statements } from './sql.js';

// What the store sends with its statements: parameter lists in the order sql.ts reads them, and
// the window read's text per shape.

const WINDOW_RE = new RegExp(`${WINDOW.replace(/[/*]/g, '\\$&')}(\\w+)\\*/`, 'g');

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

/** Distinct limits a store writes into window texts; others go as a parameter (see WindowTexts). */
export const LITERAL_LIMITS = 16;

/** The window read's text for each shape, made once, and its parameters (see `read`). */
export class WindowTexts {
  private readonly texts = new Map<string, string>();
  /** The limits written into texts so far. */
  private readonly literal = new Set<number>();
  constructor(
    private readonly q: () => Statements,
    /** PGlite: the plain window (see windowRuns). */
    private readonly pglite = false,
  ) {}

  /** Forget the texts (the statements changed after a migration). */
  clear(): void {
    this.texts.clear();
  }

  /**
   * A window read's text and parameters: $1 agent, $2 session, $3 user, $4 now, then beforeSeq
   * when given (its test is there only then), then the limit unless it is in the text. The
   * limit is written into the text (one prepared statement per limit, for the first
   * LITERAL_LIMITS distinct limits a store sees; core bounds limits to 1..1000 and a store sees
   * few), so the server keeps a generic plan of the read instead of planning it on every call:
   * with `LIMIT $n` it never does (a generic plan cannot know the limit), and planning was more
   * than half the server's work for the read. Past LITERAL_LIMITS limits, the limit is a
   * parameter, so a caller with ever new limits does not fill the connections with statements.
   */
  read(kind: 'listRuns' | 'listRunsTouch' | 'readHistory' | 'readHistoryTouch', input: NormalizedListRuns): { text: string; params: unknown[] } {
    const limit = input.limit;
    const before = input.beforeSeq !== null;
    let inText = this.literal.has(limit);
    if (!inText && this.literal.size < LITERAL_LIMITS && Number.isInteger(limit) && limit >= 0) {
      this.literal.add(limit);
      inText = true;
    }
    const key = `${kind}:${before ? 'b' : ''}${inText ? limit : '$'}`;
    let text = this.texts.get(key);
    if (text === undefined) {
      if (!Number.isInteger(limit) || limit < 0) throw new AgentSessionsError('invalid_input', 'limit must be a whole number', { source: 'postgres' });
      const q = this.q();
      const n = inText ? String(limit) : `$${before ? 6 : 5}::integer`;
      text = q[kind].replace(WINDOW_RE, (_m, header: string) => q.windowRuns(header, before ? '($5::bigint - 1)' : `${header}.last_seq`, n, this.pglite));
      this.texts.set(key, text);
    }
    const params: unknown[] = [input.agentId, input.sessionId, input.userId, input.now];
    if (before) params.push(input.beforeSeq);
    if (!inText) params.push(limit);
    return { text, params };
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
