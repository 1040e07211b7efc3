import { AgentSessionsError, invalidInput } from './errors.js';
import { generateSessionId } from './ids.js';
import type { RestoreSessionInput } from './kernel/restore.js';
import { iterateRuns } from './runs.js';
import type { SessionStore } from './session-store.js';
import type { Run, SessionHeader, SessionRef } from './types.js';

/** The format tag and version on the first line of an exported session. */
export const EXPORT_FORMAT = 'agent-sessions.session';
export const EXPORT_VERSION = 1;

export interface ExportOptions {
  /** Only runs up to this seq (a fork point). Default: every run. */
  throughSeq?: number | undefined;
  /** Runs per read. Default 200. */
  pageSize?: number | undefined;
}

type HeaderLine = {
  format: typeof EXPORT_FORMAT;
  version: number;
  session: Omit<SessionHeader, 'version' | 'runCount'>;
};

/**
 * A session as JSON Lines: first a header line (`format`, `version`, the session's header), then
 * one line per run, oldest first, read in bounded pages. Each yielded string is one line with its
 * newline, ready to write to a file or a stream. `not_found` when the session does not exist for this caller.
 */
export async function* exportSession(store: SessionStore, ref: SessionRef, options: ExportOptions = {}): AsyncGenerator<string> {
  const header = await store.getSession(ref);
  if (!header) {
    throw new AgentSessionsError('not_found', `session '${ref.sessionId}' of agent '${ref.agentId}' not found`, { source: store.name });
  }
  const through = options.throughSeq ?? header.lastSeq;
  const { version: _v, runCount: _c, ...session } = header;
  const line: HeaderLine = { format: EXPORT_FORMAT, version: EXPORT_VERSION, session: { ...session, lastSeq: Math.min(through, header.lastSeq) } };
  if (options.throughSeq !== undefined && session.summarySeq > through) {
    // A summary that covers runs past the fork point would tell the model about them.
    line.session.summary = null;
    line.session.summarySeq = 0;
  }
  yield `${JSON.stringify(line)}\n`;
  for await (const run of iterateRuns(store, ref, { order: 'asc', pageSize: options.pageSize ?? 200 })) {
    if (run.seq > through) break;
    yield `${JSON.stringify({ run })}\n`;
  }
}

/** The whole export as one string (for small sessions; stream `exportSession` for large ones). */
export async function exportSessionText(store: SessionStore, ref: SessionRef, options: ExportOptions = {}): Promise<string> {
  let out = '';
  for await (const line of exportSession(store, ref, options)) out += line;
  return out;
}

export interface ImportTarget {
  /** Import under this agent instead of the document's. */
  agentId?: string | undefined;
  /** Import under this session id instead of the document's. */
  sessionId?: string | undefined;
  /** The owner of the imported session; default the document's (null: none). */
  userId?: string | null | undefined;
}

async function* lines(source: string | Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  if (typeof source === 'string') {
    yield* source.split('\n');
    return;
  }
  let rest = '';
  for await (const chunk of source as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
  if (rest) yield rest;
}

/** Parses and checks a whole document before anything is written; errors name the line. */
export async function parseExport(
  source: string | Iterable<string> | AsyncIterable<string>,
  storeName = 'import',
): Promise<{ header: HeaderLine['session']; runs: Run[] }> {
  const fail = (n: number, why: string): AgentSessionsError => invalidInput(`line ${n}: ${why}`, storeName);
  let header: HeaderLine['session'] | undefined;
  const runs: Run[] = [];
  let n = 0;
  for await (const raw of lines(source)) {
    n += 1;
    const text = raw.trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw fail(n, 'is not JSON');
    }
    if (typeof value !== 'object' || value === null) throw fail(n, 'is not a JSON object');
    if (!header) {
      const h = value as Partial<HeaderLine>;
      if (h.format !== EXPORT_FORMAT) throw fail(n, `is not an agent-sessions export (format '${String(h.format)}')`);
      if (typeof h.version !== 'number' || !Number.isInteger(h.version) || h.version < 1) throw fail(n, 'has no format version');
      if (h.version > EXPORT_VERSION) {
        throw fail(n, `is format version ${h.version}, newer than this library reads (${EXPORT_VERSION}): update @agent-sessions/core`);
      }
      if (typeof h.session !== 'object' || h.session === null) throw fail(n, 'has no session header');
      header = h.session;
      continue;
    }
    const run = (value as { run?: Run }).run;
    if (typeof run !== 'object' || run === null) throw fail(n, 'is not a run line');
    const prev = runs[runs.length - 1];
    if (typeof run.seq !== 'number' || !Number.isSafeInteger(run.seq) || run.seq < 1) throw fail(n, 'has no valid seq');
    if (prev && run.seq !== prev.seq + 1) throw fail(n, `has seq ${run.seq} after ${prev.seq}: a gap`);
    runs.push(run);
  }
  if (!header) throw fail(Math.max(n, 1), 'the document is empty: expected a header line');
  const last = runs[runs.length - 1];
  if (last && last.seq !== header.lastSeq) throw fail(n, `the last run is seq ${last.seq}, the header says lastSeq ${header.lastSeq}`);
  return { header, runs };
}

/**
 * Imports an exported session (a string, or lines/chunks from a file or stream) into any store,
 * keeping its runs, seqs, statuses, times, usage, metadata, state and summary. The whole
 * document is checked first: a newer format version, a broken line or a seq gap fails with
 * `invalid_input` naming the line and writes nothing. `conflict` when the target session exists.
 */
export async function importSession(
  store: SessionStore,
  source: string | Iterable<string> | AsyncIterable<string>,
  target: ImportTarget = {},
): Promise<SessionHeader> {
  const { header, runs } = await parseExport(source, store.name);
  const input: RestoreSessionInput = {
    agentId: target.agentId ?? header.agentId,
    sessionId: target.sessionId ?? header.sessionId,
    userId: target.userId === undefined ? (header.userId ?? undefined) : (target.userId ?? undefined),
    header,
    runs,
  };
  return store.restoreSession(input);
}

export interface ForkOptions {
  /** The new session's id. Default: a new unguessable id. */
  newSessionId?: string | undefined;
  /** Copy runs up to this seq. Default: all. */
  throughSeq?: number | undefined;
  /** The new session's owner; default the source's. */
  userId?: string | null | undefined;
}

/** Copies a session (up to a seq) under a new id in the same store; the source is untouched. */
export async function forkSession(store: SessionStore, ref: SessionRef, options: ForkOptions = {}): Promise<SessionHeader> {
  if (options.throughSeq !== undefined && (!Number.isSafeInteger(options.throughSeq) || options.throughSeq < 0)) {
    throw invalidInput('throughSeq must be a whole number ≥ 0', store.name);
  }
  const doc = exportSession(store, ref, { throughSeq: options.throughSeq });
  return importSession(store, doc, {
    sessionId: options.newSessionId ?? generateSessionId(),
    userId: options.userId === undefined ? ref.userId : options.userId,
  });
}
