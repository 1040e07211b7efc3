import { MAX_TTL_MS, type Run } from '@agent-sessions/core/store';
import type { TableNames } from './names.js';

/** Rows one batched delete removes at most: a few ms of work, so no statement holds the server long. */
export const DELETE_BATCH = 1000;
/**
 * Where the window reads (listRuns, readHistory) take their runs: WINDOW, the header's alias and
 * the comment's end stand for a lateral subquery, which the store writes per shape (windowRuns).
 */
export const WINDOW = '/*window:';

/**
 * The newest `n` runs of header `a` with `seq <= hi` (`hi`: the header's last_seq, or beforeSeq
 * - 1), newest first; `n` is a literal or an integer parameter.
 *
 * Seqs are allocated gaplessly, so the newest n runs are nearly always exactly the seqs
 * hi - n + 1 .. hi: that range is read first, and the older runs below it only when it holds
 * fewer than n (a session shorter than n, or gaps a pop, prune or restore left near the top).
 * The range part reads at most n index entries whatever plan the server chose, so the read
 * keeps a generic plan (planned once per connection, not per call) that stays cheap at any
 * session length and with any statistics: a plain `ORDER BY seq DESC LIMIT n` got a generic
 * plan made before the table had statistics (a bitmap scan and sort of the whole session) that
 * read a 10,000-run session's whole range.
 */
export function windowRuns(R: string, a: string, hi: string, n: string, simple = false): string {
  // PGlite (in process, its plans made again every REPREPARE_EVERY calls) pays for the extra
  // plan nodes in the caller's CPU: there the plain form, which its plans walk backwards.
  if (simple) {
    return `(
  SELECT * FROM ${R} x
  WHERE x.session_pk = ${a}.id AND x.seq <= ${hi}
  ORDER BY x.seq DESC
  LIMIT ${n}
)`;
  }
  return `(
  SELECT u.* FROM (
    SELECT * FROM ${R} x WHERE x.session_pk = ${a}.id AND x.seq <= ${hi} AND x.seq > ${hi} - ${n}
    UNION ALL
    SELECT o.* FROM (
      SELECT * FROM ${R} x WHERE x.session_pk = ${a}.id AND x.seq <= ${hi} - ${n} ORDER BY x.seq DESC LIMIT ${n}
    ) o
    WHERE (SELECT count(*) FROM ${R} z WHERE z.session_pk = ${a}.id AND z.seq <= ${hi} AND z.seq > ${hi} - ${n}) < ${n}
  ) u
  ORDER BY u.seq DESC
  LIMIT ${n}
)`;
}

/** Runs one restoreSession statement writes at most. */
export const IMPORT_BATCH = 1000;

/** Runs `from` to `to` as the JSON array importSession and importRuns read (json_to_recordset). */
export function importRunsJson(runs: readonly Run[], from: number, to: number): string {
  const out: unknown[] = [];
  for (let i = from; i < to; i++) {
    const r = runs[i] as Run;
    out.push({ seq: r.seq, run_id: r.runId, created_at: r.createdAt, status: r.status, format: r.format, items: r.items, usage: r.usage, metadata: r.metadata });
  }
  return JSON.stringify(out);
}

/**
 * Every statement the store runs, built once per store from its table names. Values always
 * travel as parameters; JSON goes in as text (`$n::text::json`) and comes out as text, so the
 * driver's own type parsers (or a user's custom ones) never change what is stored or read, and
 * the text is kept exactly (key order included). The columns are json from schema version 3;
 * the statements of `statements(t, false)` also work on the jsonb columns and the header of
 * versions 1-3 (json and jsonb convert on assignment), so a store with `migrate: false` keeps
 * working while a pipeline upgrades.
 */
export interface Statements {
  append: string;
  appendExpecting: string;
  /** Why an append wrote nothing (see `appendWhy`). */
  appendWhy: string;
  purgeExpired: string;
  deleteRuns: string;
  listRuns: string;
  listRunsTouch: string;
  readHistory: string;
  readHistoryTouch: string;
  getSession: string;
  getSessionTouch: string;
  createSession: string;
  updateSession: string;
  deleteSession: string;
  popItem: string;
  prune: string;
  listSessions(filters: { user: boolean; after: boolean; before: boolean; cursor: boolean; metadata: boolean }): string;
  listUserSessions(filters: { agent: boolean; after: boolean }): string;
  /** renameSession / touchSession (schema version 4). */
  patchSession: string;
  /** restoreSession's header with (the last batch of) its runs (schema version 4). */
  importSession: string;
  /** A batch of an imported session's runs, before its header exists (schema version 4). */
  importRuns: string;
  /** A header id for an import written in several statements. */
  reserveId: string;
  /** Key rotation: a run's items replaced if they are still exactly what was read (compare-and-set). */
  rewriteRun: string;
  /** Key rotation: the header's title and preview replaced if both are still what was read (schema version 4). */
  rewriteText: string;
  /** The window's runs of header alias `a` (see `windowRuns`). */
  windowRuns(a: string, hi: string, n: string, simple?: boolean): string;
  /** Whether the statements use the header columns of schema version 4 (title, preview, usage, summary_seq). */
  full: boolean;
}

// Text that may start with U+FEFF comes back behind a '.' (rows.ts strips it): PGlite decodes
// each value with a TextDecoder, which drops a leading byte order mark. JSON text never starts
// with one.
const dot = (col: string, as: string) => `'.' || ${col} AS ${as}`;

/**
 * The header's columns, in the order rows.ts reads them (`HeaderRow` by name, `HeaderDoc` by
 * position), each with how it travels: text (behind a '.', see `dot`), JSON, or a number. The
 * last seven came with schema version 4 (title, preview, usage totals, summary_seq).
 */
const HEADER_COLUMNS = [
  ['agent_id', 'text'],
  ['session_id', 'text'],
  ['user_id', 'text'],
  ['created_at', 'num'],
  ['updated_at', 'num'],
  ['expires_at', 'num'],
  ['ttl_ms', 'num'],
  ['metadata', 'json'],
  ['state', 'json'],
  ['summary', 'text'],
  ['version', 'num'],
  ['last_seq', 'num'],
] as const;
const V4_COLUMNS = [
  ['title', 'text'],
  ['preview', 'text'],
  ['requests', 'num'],
  ['input_tokens', 'num'],
  ['output_tokens', 'num'],
  ['total_tokens', 'num'],
  ['summary_seq', 'num'],
] as const;

type HeaderColumn = readonly [name: string, kind: 'text' | 'json' | 'num', expr: string];

/** The header's columns of alias `a` (schema version 4's too when `full`); `expires` and `lastSeq` override those expressions. */
function headerColumns(a: string, full: boolean, expires = `${a}.expires_at`, lastSeq = `${a}.last_seq`): HeaderColumn[] {
  const expr = (name: string) => (name === 'expires_at' ? expires : name === 'last_seq' ? lastSeq : `${a}.${name}`);
  return [...HEADER_COLUMNS, ...(full ? V4_COLUMNS : [])].map(([name, kind]) => [name, kind, expr(name)] as const);
}

/** The header as columns named as in `HeaderRow`, JSON as text. */
function headerCols(a: string, full: boolean, expires?: string, lastSeq?: string): string {
  return headerColumns(a, full, expires, lastSeq)
    .map(([name, kind, expr]) => (kind === 'text' ? dot(expr, name) : kind === 'json' ? `${expr}::text AS ${name}` : `${expr} AS ${name}`))
    .join(', ');
}

/**
 * The header as one JSON array, for the statements of every turn (readHistory and the append):
 * the columns in `HeaderDoc` order (rows.ts), JSON values as they are, numbers as numbers. One
 * column instead of nineteen: the driver pays per column of every row (a parser, a property),
 * which in a turn cost more than decoding one small JSON text. No '.' is needed (see `dot`):
 * the text starts with '['.
 */
function headerDoc(a: string, full: boolean, expires?: string, lastSeq?: string): string {
  return `json_build_array(${headerColumns(a, full, expires, lastSeq)
    .map(([, , expr]) => expr)
    .join(', ')})::text`;
}

/** A run as one JSON array (see `runFromDoc` in rows.ts): run id, seq, time, status, format, items, usage, metadata. */
const runDoc = (a: string) =>
  `json_build_array(${a}.run_id, ${a}.seq, ${a}.created_at, ${a}.status, ${a}.format, ${a}.items, ${a}.usage, ${a}.metadata)::text`;

/**
 * readHistory: the header (row kind 0) and the window (kind 1, newest first) from one snapshot,
 * so no run is newer than the header; each row is its kind, seq and one JSON array (`headerDoc`,
 * `runDoc`). `touch` refreshes the expiry as getSessionTouch does.
 */
function history(S: string, R: string, touch: boolean, full: boolean): string {
  const touched = touch
    ? `, touched AS (
  UPDATE ${S} s SET expires_at = ${refresh('$4', 's')} FROM h WHERE s.id = h.id AND s.ttl_ms IS NOT NULL
  RETURNING s.id, s.expires_at
)`
    : '';
  const header = touch
    ? `SELECT 0 AS kind, NULL::bigint AS seq, ${headerDoc('h', full, 'COALESCE(x.expires_at, h.expires_at)')} AS doc FROM h LEFT JOIN touched x ON x.id = h.id`
    : `SELECT 0 AS kind, NULL::bigint AS seq, ${headerDoc('h', full)} AS doc FROM h`;
  return `
WITH h AS (
  SELECT s.* FROM ${S} s WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
)${touched}
${header}
UNION ALL
SELECT 1, r.seq, ${runDoc('r')}
FROM h CROSS JOIN LATERAL ${WINDOW}h*/ r
ORDER BY kind, seq DESC`;
}

const RUN_COLS = (a: string) =>
  `${dot(`${a}.run_id`, 'run_id')}, ${a}.seq, ${a}.created_at, ${a}.status, ${dot(`${a}.format`, 'format')}, ${a}.items::text AS items, ${a}.usage::text AS usage, ${a}.metadata::text AS metadata`;

// The expiry a write at `now` gives a session: its TTL, bounded as core bounds every TTL, and
// none without one (LEAST skips NULLs: it alone would give a session without a TTL an expiry).
const refresh = (now: string, a: string) =>
  `CASE WHEN ${a}.ttl_ms IS NULL THEN NULL ELSE ${now}::bigint + LEAST(${a}.ttl_ms, ${MAX_TTL_MS}::bigint) END`;

// A session the caller may see: $user is the caller's user id or NULL (a trusted call).
const visible = (a: string, now: string, user: string) =>
  `(${a}.expires_at IS NULL OR ${a}.expires_at > ${now}::bigint) AND (${user}::text IS NULL OR ${a}.user_id = ${user}::text)`;

type Cols = (a: string, expires?: string, lastSeq?: string) => string;

/**
 * `full`: the tables are at schema version 4 or later (every store that migrates). A store with
 * `migrate: false` over tables at versions 1-3 gets the statements of those versions: the
 * header fields version 4 added read as their defaults, and what needs them (rename, touch,
 * restore) fails with not_implemented until the pipeline migrates.
 */
export function statements(t: TableNames, full = true): Statements {
  const S = t.sessions;
  const R = t.runs;
  const cols: Cols = (a, e, l) => headerCols(a, full, e, l);
  // The header fields an append keeps (version 4): title if none yet, the latest preview, usage totals.
  const appendInsertCols = full ? ', title, preview, requests, input_tokens, output_tokens, total_tokens' : '';
  const appendInsertVals = full ? ', $16::text, $17::text, $18::float8, $19::float8, $20::float8, $21::float8' : '';
  const appendSet = (ex: (n: number, type: string) => string) =>
    full
      ? `,
    title = COALESCE(s.title, ${ex(16, 'text')}),
    preview = COALESCE(${ex(17, 'text')}, s.preview),
    requests = s.requests + ${ex(18, 'float8')},
    input_tokens = s.input_tokens + ${ex(19, 'float8')},
    output_tokens = s.output_tokens + ${ex(20, 'float8')},
    total_tokens = s.total_tokens + ${ex(21, 'float8')}`
      : '';
  const EXCLUDED: Record<number, string> = { 16: 'title', 17: 'preview', 18: 'requests', 19: 'input_tokens', 20: 'output_tokens', 21: 'total_tokens' };
  return {
    full,
    windowRuns: (a, hi, n, simple) => windowRuns(R, a, hi, n, simple),
    /*
     * appendRun in one statement. $1 agent, $2 session, $3 user, $4 now, $5 TTL and $6 expiry of
     * a new session (or the explicit new ones), $7 whether $5/$6 replace an existing session's,
     * $8 session metadata, $9 run id, $10 status, $11 format, $12 items, $13 usage, $14 run metadata,
     * $15 the expected last_seq or NULL.
     *
     * The upsert takes the header's row lock, so writers of one session run one at a time and
     * each gets last_seq + 1: gapless. Its WHERE is checked against the newest committed row
     * (after waiting for the lock), and refuses expired sessions, other users' sessions and
     * run ids already stored. The NOT EXISTS, like every read in a statement, sees the snapshot
     * taken when the statement began; a retry of the same run id that committed after that is
     * caught by the UNIQUE (session_pk, run_id) constraint instead, which fails the whole
     * statement (header update included: no gap), and the store runs it again with a fresh
     * snapshot, which then finds the stored run.
     *
     * An expected last_seq is checked in the same place: the insert of a new session only runs
     * when it is 0 (or NULL), the update only when the newest committed row has it, so of
     * appends racing on one expected value exactly one lands.
     *
     * When the upsert refuses, the statement returns no row and the store asks why with a
     * second statement (`appendWhy`), so the common path carries none of the diagnosis.
     *
     * `OFFSET 0` keeps the run-id test a lookup of (session_pk, run_id) per call: without it the
     * planner may turn NOT EXISTS into a hashed subplan over every run with that run id in the
     * table (a sequential scan), and a generic plan made so while the table was small is kept.
     */
    append: append(S, R, full, `
  INSERT INTO ${S} AS s (agent_id, session_id, user_id, created_at, updated_at, expires_at, ttl_ms, metadata, state, version, last_seq${appendInsertCols})
  VALUES ($1::text, $2::text, $3::text, $4::bigint, $4::bigint, $6::bigint, $5::bigint, $8::text::json, '{}'::json, 1, 1${appendInsertVals})
  ON CONFLICT (agent_id, session_id) DO UPDATE SET
    last_seq = s.last_seq + 1,
    version = s.version + 1,
    updated_at = GREATEST(s.updated_at, EXCLUDED.updated_at),
    ttl_ms = CASE WHEN $7::boolean THEN EXCLUDED.ttl_ms ELSE s.ttl_ms END,
    expires_at = CASE WHEN $7::boolean THEN EXCLUDED.expires_at ELSE ${refresh('EXCLUDED.updated_at', 's')} END${appendSet((n) => `EXCLUDED.${EXCLUDED[n]}`)}
  WHERE (s.expires_at IS NULL OR s.expires_at > EXCLUDED.updated_at)
    AND ($3::text IS NULL OR s.user_id = $3::text)
    AND NOT EXISTS (SELECT 1 FROM ${R} r WHERE r.session_pk = s.id AND r.run_id = $9::text OFFSET 0)
    AND ($15::bigint IS NULL OR s.last_seq = $15::bigint)
  RETURNING s.*`),

    appendWhy: appendWhy(S, R, full),

    // The same with an expected last_seq above 0: the session must exist, so a plain UPDATE
    // (rechecked on the newest row after any lock wait) takes the place of the upsert. $8, the
    // metadata of a new session, is never used then.
    appendExpecting: append(S, R, full, `
  UPDATE ${S} AS s SET
    last_seq = s.last_seq + 1,
    version = s.version + 1,
    updated_at = GREATEST(s.updated_at, $4::bigint),
    ttl_ms = CASE WHEN $7::boolean THEN $5::bigint ELSE s.ttl_ms END,
    expires_at = CASE WHEN $7::boolean THEN $6::bigint ELSE ${refresh('$4', 's')} END${appendSet((n, type) => `$${n}::${type}`)}
  WHERE s.agent_id = $1::text AND s.session_id = $2::text
    AND (s.expires_at IS NULL OR s.expires_at > $4::bigint)
    AND ($3::text IS NULL OR s.user_id = $3::text)
    AND NOT EXISTS (SELECT 1 FROM ${R} r WHERE r.session_pk = s.id AND r.run_id = $9::text OFFSET 0)
    AND s.last_seq = $15::bigint AND $8::text IS NOT NULL
  RETURNING s.*`),


    /*
     * Deletes a session if (still) expired, with its first batch of runs; $1 agent, $2 session,
     * $3 now. Gives the header's id and what is left to delete (see deleteSession).
     */
    purgeExpired: `
WITH h AS (
  DELETE FROM ${S} s
  WHERE s.agent_id = $1::text AND s.session_id = $2::text AND s.expires_at IS NOT NULL AND s.expires_at <= $3::bigint
  RETURNING s.id, s.last_seq
), gone AS (${deleteFirstRuns(R)})
SELECT h.id, h.last_seq, (SELECT count(*) FROM gone) AS n, (SELECT max(seq) FROM gone) AS top FROM h`,

    // One batch of a deleted session's remaining runs. $1 the header's id.
    deleteRuns: `
WITH d AS (
  DELETE FROM ${R} r USING (
    SELECT x.seq FROM ${R} x WHERE x.session_pk = $1::bigint ORDER BY x.seq LIMIT ${DELETE_BATCH}
  ) b
  WHERE r.session_pk = $1::bigint AND r.seq = b.seq
  RETURNING 1
)
SELECT count(*) AS n FROM d`,

    /*
     * The window: one indexed query that checks ownership and expiry on the header and reads the
     * newest runs along the (session_pk, seq) primary key, `limit` index entries in the common
     * case however long the session is (see windowRuns). $1 agent, $2 session, $3 user, $4 now, $5 beforeSeq (only in
     * the variant with it), then the limit when it is not written into the text (see windowRuns).
     */
    listRuns: `
SELECT ${RUN_COLS('r')}
FROM ${S} s CROSS JOIN LATERAL ${WINDOW}s*/ r
WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
ORDER BY r.seq DESC`,

    // The same, refreshing the session's expiry (touchOnRead).
    listRunsTouch: `
WITH h AS (
  SELECT s.id, s.last_seq FROM ${S} s WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
), touched AS (
  UPDATE ${S} s SET expires_at = ${refresh('$4', 's')} FROM h WHERE s.id = h.id AND s.ttl_ms IS NOT NULL
)
SELECT ${RUN_COLS('r')}
FROM h CROSS JOIN LATERAL ${WINDOW}h*/ r
ORDER BY r.seq DESC`,

    // The header and the window in one statement; parameters as listRuns.
    readHistory: history(S, R, false, full),
    readHistoryTouch: history(S, R, true, full),

    // $1 agent, $2 session, $3 user, $4 now.
    getSession: `
SELECT ${cols('s')} FROM ${S} s
WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}`,

    getSessionTouch: `
WITH h AS (
  SELECT s.* FROM ${S} s WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
), touched AS (
  UPDATE ${S} s SET expires_at = ${refresh('$4', 's')} FROM h WHERE s.id = h.id AND s.ttl_ms IS NOT NULL
  RETURNING s.id, s.expires_at
)
SELECT ${cols('h', 'COALESCE(x.expires_at, h.expires_at)')} FROM h LEFT JOIN touched x ON x.id = h.id`,

    /*
     * $1 agent, $2 session, $3 user, $4 now, $5 TTL, $6 expiry, $7 metadata, $8 state. A
     * conflicting row committed after the snapshot gives no row at all: the store runs the
     * statement again.
     */
    createSession: `
WITH ins AS (
  INSERT INTO ${S} (agent_id, session_id, user_id, created_at, updated_at, expires_at, ttl_ms, metadata, state, version, last_seq)
  VALUES ($1::text, $2::text, $3::text, $4::bigint, $4::bigint, $6::bigint, $5::bigint, $7::text::json, $8::text::json, 1, 0)
  ON CONFLICT (agent_id, session_id) DO NOTHING
  RETURNING *
)
SELECT 'created' AS outcome, ${cols('i')} FROM ins i
UNION ALL
SELECT CASE
    WHEN s.expires_at IS NOT NULL AND s.expires_at <= $4::bigint THEN 'expired'
    WHEN $3::text IS NOT NULL AND s.user_id IS DISTINCT FROM $3::text THEN 'denied'
    ELSE 'exists'
  END, ${cols('s')}
FROM ${S} s WHERE s.agent_id = $1::text AND s.session_id = $2::text AND NOT EXISTS (SELECT 1 FROM ins)`,

    /*
     * Optimistic update: the version test is rechecked on the newest row after any lock wait, so
     * of concurrent updates naming one version exactly one matches. $1 agent, $2 session, $3 user,
     * $4 now, $5 expected version, $6/$8/$10/$12 whether metadata/state/summary/summarySeq are
     * given, $7/$9/$11/$13 their values ($12 and $13 from schema version 4). No 'updated' row: the second branch gives the version seen (conflict), or
     * nothing (not_found).
     */
    updateSession: `
WITH upd AS (
  UPDATE ${S} s SET
    metadata = CASE WHEN $6::boolean THEN $7::text::json ELSE s.metadata::json END,
    state = CASE WHEN $8::boolean THEN $9::text::json ELSE s.state::json END,
    summary = CASE WHEN $10::boolean THEN $11::text ELSE s.summary END,${full ? `
    summary_seq = CASE WHEN $12::boolean THEN $13::bigint ELSE s.summary_seq END,` : ''}
    version = s.version + 1,
    updated_at = GREATEST(s.updated_at, $4::bigint),
    expires_at = ${refresh('$4', 's')}
  WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')} AND s.version = $5::bigint
  RETURNING s.*
)
SELECT true AS updated, ${cols('u')} FROM upd u
UNION ALL
SELECT false, ${cols('s')} FROM ${S} s
WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')} AND NOT EXISTS (SELECT 1 FROM upd)`,

    /*
     * Deletes the header (the session is gone for every reader at once) and the first batch of
     * its runs. $1 agent, $2 session, $3 user, $4 now. `n` runs were deleted, up to seq `top`;
     * the store deletes the rest in batches when the batch was full, or when the header's
     * last_seq (read after any lock wait) is above `top`: an append committed after this
     * statement's snapshot.
     */
    deleteSession: `
WITH h AS (
  DELETE FROM ${S} s
  WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
  RETURNING s.id, s.last_seq
), gone AS (${deleteFirstRuns(R)})
SELECT h.id, h.last_seq, (SELECT count(*) FROM gone) AS n, (SELECT max(seq) FROM gone) AS top FROM h`,

    /*
     * popItem in one statement, as a compare-and-set on the header's version: the newest run is
     * read from the snapshot (one step backwards along the primary key), and the header update
     * only matches if the newest committed row still has the version seen there (every change to
     * a session's runs bumps it). The run is shortened or deleted only through the header
     * update's output, so a loser changes nothing and gets won = false: the store runs it again.
     * Items are cut as json text, so the items left keep their exact text. $1 agent, $2 session,
     * $3 user, $4 now.
     */
    popItem: `
WITH h AS (
  SELECT s.id, s.version FROM ${S} s WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
), last AS (
  SELECT r.session_pk, r.seq, r.run_id, r.items::json AS items, json_array_length(r.items::json) AS n, h.version
  FROM h CROSS JOIN LATERAL (
    SELECT x.session_pk, x.seq, x.run_id, x.items FROM ${R} x WHERE x.session_pk = h.id ORDER BY x.seq DESC LIMIT 1
  ) r
), hu AS (
  UPDATE ${S} s SET
    version = s.version + 1,
    updated_at = GREATEST(s.updated_at, $4::bigint),
    expires_at = ${refresh('$4', 's')},
    last_seq = CASE WHEN l.n <= 1 THEN l.seq - 1 ELSE s.last_seq END
  FROM last l
  WHERE s.id = l.session_pk AND s.version = l.version
  RETURNING s.id
), shrunk AS (
  UPDATE ${R} r SET items = (
    -- From the row as it is now, not the snapshot: a rewrite (key rotation) in between is kept.
    SELECT json_agg(e.value ORDER BY e.i) FROM json_array_elements(r.items::json) WITH ORDINALITY AS e(value, i) WHERE e.i < l.n
  )
  FROM last l, hu
  WHERE r.session_pk = hu.id AND r.seq = l.seq AND l.n > 1
), removed AS (
  DELETE FROM ${R} r USING last l, hu
  WHERE r.session_pk = hu.id AND r.seq = l.seq AND l.n <= 1
)
SELECT (l.items -> (l.n - 1))::text AS item, ${dot('l.run_id', 'run_id')}, l.seq, EXISTS (SELECT 1 FROM hu) AS won FROM last l`,

    /*
     * One batch of prune; the store repeats it while any part was full or runs of expired
     * sessions went. $1 agent or NULL, $2 now, $3 remove runs created before this (NULL: none).
     * Runs of expired sessions go first (the sessions are invisible already, and nothing can add
     * to them: an append to an expired session replaces it with a new one), then the expired
     * headers left without runs, then old runs of live sessions, each at most DELETE_BATCH rows.
     */
    prune: `
WITH dead_runs AS (
  DELETE FROM ${R} r USING (
    SELECT x.session_pk, x.seq FROM ${S} s CROSS JOIN LATERAL (
      SELECT y.session_pk, y.seq FROM ${R} y WHERE y.session_pk = s.id ORDER BY y.seq LIMIT ${DELETE_BATCH}
    ) x
    WHERE s.expires_at IS NOT NULL AND s.expires_at <= $2::bigint AND ($1::text IS NULL OR s.agent_id = $1::text)
    LIMIT ${DELETE_BATCH}
  ) d
  WHERE r.session_pk = d.session_pk AND r.seq = d.seq
  RETURNING 1
), dead AS (
  DELETE FROM ${S} s USING (
    SELECT y.id FROM ${S} y
    WHERE y.expires_at IS NOT NULL AND y.expires_at <= $2::bigint AND ($1::text IS NULL OR y.agent_id = $1::text)
      AND NOT EXISTS (SELECT 1 FROM ${R} z WHERE z.session_pk = y.id)
    LIMIT ${DELETE_BATCH}
  ) d
  WHERE s.id = d.id AND s.expires_at <= $2::bigint
  RETURNING 1
), old_runs AS (
  DELETE FROM ${R} r USING (
    SELECT x.session_pk, x.seq FROM ${R} x JOIN ${S} s ON s.id = x.session_pk
    WHERE $3::bigint IS NOT NULL AND x.created_at < $3::bigint
      AND (s.expires_at IS NULL OR s.expires_at > $2::bigint) AND ($1::text IS NULL OR s.agent_id = $1::text)
    ORDER BY x.created_at
    LIMIT ${DELETE_BATCH}
  ) d
  WHERE r.session_pk = d.session_pk AND r.seq = d.seq
  RETURNING 1
)
SELECT (SELECT count(*) FROM dead) AS sessions, (SELECT count(*) FROM dead_runs) AS dead_runs,
  (SELECT count(*) FROM old_runs) AS old_runs`,

    /*
     * Newest first along (agent_id[, user_id], updated_at DESC, session_id DESC), with a keyset
     * cursor. The SQL text varies only by which fixed filters are on. $1 agent, $2 now, then
     * the filters' values in order, then the limit.
     */
    listSessions: ({ user, after, before, cursor, metadata }) => {
      const where = [`s.agent_id = $1::text`, `(s.expires_at IS NULL OR s.expires_at > $2::bigint)`];
      let n = 2;
      if (user) where.push(`s.user_id = $${++n}::text`);
      // Equality on each key, as jsonb containment of an object of scalars (a scalar never
      // matches an array or object holding it below the top level); the GIN index is on this
      // very expression. The text test is implied by any filter (core turns an empty one into
      // none) and is that index's predicate since schema version 5: the planner uses a partial
      // index only when the query states its predicate.
      if (metadata) where.push(`s.metadata::jsonb @> $${++n}::text::jsonb AND s.metadata::text <> '{}'`);
      if (after) where.push(`s.updated_at >= $${++n}::bigint`);
      if (before) where.push(`s.updated_at < $${++n}::bigint`);
      if (cursor) {
        const a = ++n;
        const b = ++n;
        where.push(`(s.updated_at, s.session_id) < ($${a}::bigint, $${b}::text)`);
      }
      return `
SELECT ${cols('s')} FROM ${S} s
WHERE ${where.join(' AND ')}
ORDER BY s.updated_at DESC, s.session_id DESC
LIMIT $${n + 1}::integer`;
    },

    /*
     * A user's live sessions ordered by (agent_id, session_id), along the index on
     * (user_id, agent_id, session_id). $1 user, $2 now, then the agent, then the last
     * (agent, session) of the previous page, then the limit.
     */
    listUserSessions: ({ agent, after }) => {
      // The index's expression (see migration 4); equality is the same as on user_id itself.
      const where = [`(s.user_id COLLATE "default") = $1::text`, `(s.expires_at IS NULL OR s.expires_at > $2::bigint)`];
      let n = 2;
      if (agent) where.push(`s.agent_id = $${++n}::text`);
      if (after) {
        const a = ++n;
        const b = ++n;
        where.push(`(s.agent_id, s.session_id) > ($${a}::text, $${b}::text)`);
      }
      return `
SELECT ${cols('s')} FROM ${S} s
WHERE ${where.join(' AND ')}
ORDER BY s.agent_id, s.session_id
LIMIT $${n + 1}::integer`;
    },

    /*
     * renameSession / touchSession: one UPDATE, no read first. $1 agent, $2 session, $3 user,
     * $4 now, $5 whether the title is given, $6 the title, $7 touch (updated_at = max(updated_at, now)).
     * No row: absent, expired or another user's (not_found).
     */
    /*
     * Key rotation. $1 agent, $2 session, $3 user, $4 now; rewriteRun: $5 seq, $6 run id, $7 the
     * items as read, $8 the new items (compared as jsonb: a pop rebuilds the text with json_agg);
     * rewriteText: $5/$6 title/preview as read, $7/$8 the new ones. Version, updated_at and the
     * TTL stay as they are.
     */
    rewriteRun: `
UPDATE ${R} r SET items = $8::json
FROM ${S} s
WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
  AND r.session_pk = s.id AND r.seq = $5::bigint AND r.seq <= s.last_seq AND r.run_id = $6::text
  AND r.items::jsonb = $7::jsonb
RETURNING 1 AS ok`,

    rewriteText: `
UPDATE ${S} s SET title = $7::text, preview = $8::text
WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
  AND s.title IS NOT DISTINCT FROM $5::text AND s.preview IS NOT DISTINCT FROM $6::text
RETURNING 1 AS ok`,

    patchSession: `
UPDATE ${S} s SET
  title = CASE WHEN $5::boolean THEN $6::text ELSE s.title END,
  version = s.version + 1,
  updated_at = CASE WHEN $7::boolean THEN GREATEST(s.updated_at, $4::bigint) ELSE s.updated_at END,
  expires_at = ${refresh('$4', 's')}
WHERE s.agent_id = $1::text AND s.session_id = $2::text AND ${visible('s', '$4', '$3')}
RETURNING ${cols('s')}`,

    /*
     * restoreSession: the header and its runs in one statement (all or nothing), or, for a long
     * session, the header with the last batch of runs after importRuns wrote the others under
     * the id reserveId gave ($21; NULL: a new one). $1 agent, $2 session, $3 user, $4 now,
     * $5 created_at, $6 updated_at, $7 expires_at, $8 ttl_ms, $9 metadata, $10 state, $11 summary,
     * $12 summary_seq, $13 title, $14 preview, $15-$18 usage totals, $19 last_seq, $20 the runs
     * as a JSON array. A live session of that id: 'exists' (conflict); an expired one: 'expired'
     * (the store purges it and runs this again); no row: a session created after our snapshot.
     */
    importSession: `
WITH h AS (
  INSERT INTO ${S} (id, agent_id, session_id, user_id, created_at, updated_at, expires_at, ttl_ms, metadata, state, summary,
    summary_seq, title, preview, requests, input_tokens, output_tokens, total_tokens, version, last_seq)
  OVERRIDING SYSTEM VALUE
  VALUES (COALESCE($21::bigint, nextval(pg_get_serial_sequence('${S}', 'id'))), $1::text, $2::text, $3::text, $5::bigint,
    $6::bigint, $7::bigint, $8::bigint, $9::text::json, $10::text::json, $11::text, $12::bigint, $13::text, $14::text,
    $15::float8, $16::float8, $17::float8, $18::float8, 1, $19::bigint)
  ON CONFLICT (agent_id, session_id) DO NOTHING
  RETURNING *
), ins AS (${importRunsFrom(R, 'h.id', 'h', '$20')})
SELECT 'created' AS outcome, ${cols('h')} FROM h
UNION ALL
SELECT CASE WHEN s.expires_at IS NOT NULL AND s.expires_at <= $4::bigint THEN 'expired' ELSE 'exists' END, ${cols('s')}
FROM ${S} s WHERE s.agent_id = $1::text AND s.session_id = $2::text AND NOT EXISTS (SELECT 1 FROM h)`,

    // $1 the reserved header id, $2 the runs as a JSON array. No header points to them yet.
    importRuns: importRunsFrom(R, '$1::bigint', null, '$2'),

    reserveId: `SELECT nextval(pg_get_serial_sequence('${S}', 'id')) AS id`,
  };
}

/**
 * Inserts runs given as a JSON array of { seq, run_id, created_at, status, format, items, usage,
 * metadata } objects. json_to_recordset keeps each json value's text as sent (key order).
 */
function importRunsFrom(R: string, pk: string, from: string | null, runs: string): string {
  return `
  INSERT INTO ${R} (session_pk, seq, run_id, created_at, status, format, items, usage, metadata)
  SELECT ${pk}, x.seq, x.run_id, x.created_at, x.status, x.format, x.items, x.usage, x.metadata
  FROM ${from ? `${from} CROSS JOIN ` : ''}json_to_recordset(${runs}::text::json)
    AS x(seq bigint, run_id text, created_at bigint, status text, format text, items json, usage json, metadata json)`;
}

// The first batch of the deleted header `h`'s runs, newest first (so `top` is its newest seq).
const deleteFirstRuns = (R: string) => `
  DELETE FROM ${R} r USING (
    SELECT x.session_pk, x.seq FROM h JOIN LATERAL (
      SELECT y.session_pk, y.seq FROM ${R} y WHERE y.session_pk = h.id ORDER BY y.seq DESC LIMIT ${DELETE_BATCH}
    ) x ON true
  ) d
  WHERE r.session_pk = d.session_pk AND r.seq = d.seq
  RETURNING r.seq`;

/**
 * The append statement around `hdr`, the write that allocates the seq (see `append` in
 * statements). Its row: the header as one JSON array (`headerDoc`); the run created is at the
 * header's last_seq. No row: the write was refused, and `appendWhy` says why.
 */
function append(S: string, R: string, full: boolean, hdr: string): string {
  return `
WITH hdr AS (${hdr}
), ins AS (
  INSERT INTO ${R} (session_pk, seq, run_id, created_at, status, format, items, usage, metadata)
  SELECT hdr.id, hdr.last_seq, $9::text, $4::bigint, $10::text, $11::text, $12::text::json, $13::text::json, $14::text::json
  FROM hdr
  RETURNING seq
)
SELECT 'created' AS outcome, ${headerDoc('h', full)} AS doc, NULL::text AS run
FROM hdr h CROSS JOIN ins i`;
}

/**
 * Why an append wrote nothing, read after it (only then: the common path never runs it). $1
 * agent, $2 session, $3 user, $4 now, $5 run id, $6 the expected last_seq or NULL. The outcome:
 * 'expired' (the store deletes the session and appends again), 'denied' (not_found), 'exists'
 * (an idempotent retry: the stored run, even when the expected last_seq is stale), 'stale'
 * (conflict: the header's last_seq, 0 for an absent or expired session, is not the expected
 * one), or 'retry' (the session changed since the append: run it again). With the header as
 * one JSON array (`headerDoc`) and the stored run as one (`runDoc`).
 */
function appendWhy(S: string, R: string, full: boolean): string {
  const expired = 's.expires_at IS NOT NULL AND s.expires_at <= $4::bigint';
  return `
SELECT CASE
    WHEN s.id IS NULL THEN CASE WHEN $6::bigint <> 0 THEN 'stale' ELSE 'retry' END
    WHEN ${expired} THEN CASE WHEN $6::bigint <> 0 THEN 'stale' ELSE 'expired' END
    WHEN $3::text IS NOT NULL AND s.user_id IS DISTINCT FROM $3::text THEN 'denied'
    WHEN r.seq IS NOT NULL THEN 'exists'
    WHEN s.last_seq <> $6::bigint THEN 'stale'
    ELSE 'retry'
  END AS outcome,
  CASE WHEN s.id IS NULL THEN NULL ELSE ${headerDoc('s', full, `CASE WHEN ${expired} THEN NULL ELSE s.expires_at END`, `CASE WHEN ${expired} THEN 0 ELSE s.last_seq END`)} END AS doc,
  CASE WHEN r.seq IS NULL THEN NULL ELSE ${runDoc('r')} END AS run
FROM (SELECT 1) one
  LEFT JOIN ${S} s ON s.agent_id = $1::text AND s.session_id = $2::text
  LEFT JOIN ${R} r ON r.session_pk = s.id AND r.run_id = $5::text`;
}
