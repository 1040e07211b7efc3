import { AgentSessionsError } from '@agent-sessions/core/store';
import { isQueryable, runnerFor, type PgQueryable, type SqlRunner } from './client.js';
import { wrapPgError } from './errors.js';
import { tableNames, type NameOptions, type TableNames } from './names.js';

/** One schema change. Versions are consecutive from 1; a shipped migration is never edited. */
export interface Migration {
  version: number;
  name: string;
  sql(t: TableNames): string;
}

/**
 * The schema, version by version. Times are epoch milliseconds (bigint), exactly as the
 * store's clock gives them; ids compare byte-wise (COLLATE "C") so listing order and keyset
 * cursors do not depend on the database's locale.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions and runs',
    sql: (t) => `
CREATE TABLE ${t.sessions} (
  id         bigint GENERATED ALWAYS AS IDENTITY,
  agent_id   text COLLATE "C" NOT NULL,
  session_id text COLLATE "C" NOT NULL,
  user_id    text COLLATE "C",
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  expires_at bigint,
  ttl_ms     bigint,
  metadata   jsonb NOT NULL DEFAULT '{}',
  state      jsonb NOT NULL DEFAULT '{}',
  summary    text,
  version    bigint NOT NULL,
  last_seq   bigint NOT NULL,
  CONSTRAINT ${t.local('sessions_pkey')} PRIMARY KEY (id),
  CONSTRAINT ${t.local('sessions_key')} UNIQUE (agent_id, session_id)
);
CREATE INDEX ${t.local('sessions_agent_updated')} ON ${t.sessions} (agent_id, updated_at DESC, session_id DESC);
CREATE INDEX ${t.local('sessions_agent_user_updated')} ON ${t.sessions} (agent_id, user_id, updated_at DESC, session_id DESC);
CREATE INDEX ${t.local('sessions_expires')} ON ${t.sessions} (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE ${t.runs} (
  session_pk bigint NOT NULL,
  seq        bigint NOT NULL,
  run_id     text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  status     text NOT NULL,
  format     text NOT NULL,
  items      jsonb NOT NULL,
  usage      jsonb,
  metadata   jsonb,
  CONSTRAINT ${t.local('runs_pkey')} PRIMARY KEY (session_pk, seq),
  CONSTRAINT ${t.local('runs_run_id_key')} UNIQUE (session_pk, run_id),
  CONSTRAINT ${t.local('runs_session_fkey')} FOREIGN KEY (session_pk) REFERENCES ${t.sessions} (id) ON DELETE CASCADE
);`,
  },
  {
    version: 2,
    name: 'index runs by creation time, for prune({ runsOlderThan })',
    sql: (t) => `CREATE INDEX ${t.local('runs_created')} ON ${t.runs} (created_at);`,
  },
  {
    version: 3,
    name: 'JSON kept as sent (json, not jsonb), runs deleted by the store (no foreign key)',
    // json keeps the text as written: key order, duplicate keys and number spelling survive (the
    // OpenAI Agents SDK compares items by JSON.stringify). Existing values convert as they are.
    // The foreign key cost every append a lookup; the store deletes runs itself, in batches.
    sql: (t) => `
ALTER TABLE ${t.runs} DROP CONSTRAINT IF EXISTS ${t.local('runs_session_fkey')};
ALTER TABLE ${t.runs}
  ALTER COLUMN items TYPE json USING items::json,
  ALTER COLUMN usage TYPE json USING usage::json,
  ALTER COLUMN metadata TYPE json USING metadata::json;
ALTER TABLE ${t.sessions}
  ALTER COLUMN metadata DROP DEFAULT,
  ALTER COLUMN state DROP DEFAULT;
ALTER TABLE ${t.sessions}
  ALTER COLUMN metadata TYPE json USING metadata::json,
  ALTER COLUMN state TYPE json USING state::json;
ALTER TABLE ${t.sessions}
  ALTER COLUMN metadata SET DEFAULT '{}',
  ALTER COLUMN state SET DEFAULT '{}';`,
  },
  {
    version: 4,
    name: 'header title, preview, usage totals and summary_seq; per-user and metadata indexes',
    // Columns with constant defaults are added without rewriting the table (existing sessions
    // read as untitled, zero usage). Usage totals are float8: they sum JavaScript numbers exactly
    // as JavaScript does. The indexes serve listUserSessions and listSessions({ metadata }). The
    // user index keys on `user_id COLLATE "default"` (equality is the same: ids compare
    // byte-wise either way), an expression only listUserSessions names, so the planner never
    // picks it for listSessions({ agentId, userId }), which the (agent, user, updated) index
    // serves in order.
    sql: (t) => `
ALTER TABLE ${t.sessions}
  ADD COLUMN IF NOT EXISTS title text,
  ADD COLUMN IF NOT EXISTS preview text,
  ADD COLUMN IF NOT EXISTS requests float8 NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS input_tokens float8 NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS output_tokens float8 NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS total_tokens float8 NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS summary_seq bigint NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS ${t.local('sessions_user_agent_session')} ON ${t.sessions} ((user_id COLLATE "default"), agent_id, session_id) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${t.local('sessions_metadata')} ON ${t.sessions} USING gin ((metadata::jsonb) jsonb_path_ops);`,
  },
  {
    version: 5,
    name: 'per-user listing and metadata indexes hold only sessions with a user or metadata',
    // Every append moves the header's updated_at, an indexed column, so the header's new row
    // version gets an entry in every index of the sessions table whose predicate it meets. A
    // session without a user never needs the (agent, user, updated) index, and one with empty
    // metadata never matches a metadata filter (listSessions adds `metadata::text <> '{}'` to
    // a filter with keys, so the planner can use this index): leaving them out saves those
    // entries on every append of such a session (measured: 2 WAL records and 5 buffer hits of an
    // append's 11 and 25; 1.5% and 6% of its time in two A/B runs).
    // ANALYZE keeps no statistics for a partial index's expression, and without them the
    // planner guesses a metadata filter matches 1% of the agent's sessions and walks the
    // agent's updated_at index instead; statistics on the expression (PostgreSQL 14 and later)
    // give it the estimate the full index's expression gave.
    sql: (t) => `
DROP INDEX IF EXISTS ${t.qschema}.${t.local('sessions_agent_user_updated')};
CREATE INDEX ${t.local('sessions_agent_user_updated')} ON ${t.sessions} (agent_id, user_id, updated_at DESC, session_id DESC) WHERE user_id IS NOT NULL;
DROP INDEX IF EXISTS ${t.qschema}.${t.local('sessions_metadata')};
CREATE INDEX ${t.local('sessions_metadata')} ON ${t.sessions} USING gin ((metadata::jsonb) jsonb_path_ops) WHERE metadata::text <> '{}';
IF current_setting('server_version_num')::integer >= 140000 THEN
  EXECUTE 'CREATE STATISTICS IF NOT EXISTS ${t.qschema}.${t.local('sessions_metadata')} ON ((metadata::jsonb)) FROM ${t.sessions}';
END IF;`,
  },
];

/** The first schema version with the header fields of contract v2 (title, preview, usage, summarySeq). */
export const HEADER_V2_VERSION = 4;

/** The schema version this release writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export interface MigrateOptions extends NameOptions {
  /** Stop at this version instead of the newest (for staged upgrades and tests). Default: SCHEMA_VERSION. */
  targetVersion?: number | undefined;
}

export interface MigrateResult {
  /** The version found before migrating (0 for an empty database). */
  from: number;
  /** The version now recorded. */
  to: number;
}

// Keeps the dollar-quoted bodies below from ever being closed by migration text.
const TAG = '$agent_sessions_migration$';

/**
 * A database whose schema is newer than this code: an older release must not write to tables
 * whose meaning it does not know. Upgrade the package (or roll the database back).
 */
export class SchemaVersionError extends AgentSessionsError {
  constructor(
    readonly databaseVersion: number,
    readonly codeVersion: number,
    where: string,
  ) {
    super(
      'internal',
      `the tables ${where} are at schema version ${databaseVersion}, newer than this release of @agent-sessions/postgres knows (${codeVersion}): upgrade the package`,
      { source: 'postgres' },
    );
    this.name = 'SchemaVersionError';
  }
}

/**
 * The SQL that brings the tables to `targetVersion`, as one script: it takes transaction-level
 * advisory locks first (one per schema, so instances with different table prefixes never race
 * to create the schema, and one per schema and prefix, which earlier releases take), so
 * instances that start together migrate once (the others wait, then find every version
 * recorded), and each migration runs only if its version is not recorded yet. The server runs a multi-statement script as one transaction: all of it or none.
 * Give it to `psql` in a deploy pipeline, or call `migrate()`.
 */
export function migrationSql(options: MigrateOptions = {}): string {
  const t = tableNames(options);
  const target = targetOf(options);
  const parts = [
    `SELECT pg_advisory_xact_lock(hashtext('agent-sessions migrate schema ${t.schema}'));`,
    `SELECT pg_advisory_xact_lock(hashtext('agent-sessions migrate ${t.schema}.${t.prefix}'));`,
    t.schema === 'public' ? '' : `CREATE SCHEMA IF NOT EXISTS ${t.qschema};`,
    `CREATE TABLE IF NOT EXISTS ${t.migrations} (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`,
  ];
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    const body = m.sql(t);
    if (body.includes(TAG)) throw new Error(`migration ${m.version} contains ${TAG}`);
    parts.push(`DO ${TAG}
BEGIN
IF NOT EXISTS (SELECT 1 FROM ${t.migrations} WHERE version = ${m.version}) THEN
${body}
INSERT INTO ${t.migrations} (version, name) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}');
END IF;
END
${TAG};`);
  }
  return parts.filter(Boolean).join('\n');
}

/** The highest recorded version, 0 when the tables (or the schema) do not exist yet. */
export async function schemaVersion(runner: SqlRunner, t: TableNames): Promise<number> {
  try {
    // Unnamed: it fails until the tables exist, and a failed named statement is best not left to a driver.
    const rows = await runner.query<{ v: number | string | null }>(`SELECT max(version) AS v FROM ${t.migrations}`, [], true);
    return Number(rows[0]?.v ?? 0);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === '42P01' || code === '3F000') return 0; // undefined_table, invalid_schema_name
    throw err;
  }
}

/** Fails with a SchemaVersionError when the database is newer than this code. */
export function assertKnownVersion(version: number, t: TableNames): void {
  if (version > SCHEMA_VERSION) throw new SchemaVersionError(version, SCHEMA_VERSION, `${t.schema}.${t.prefix}_*`);
}

/** Migrates when behind: one query when the schema is current, and no DDL privileges needed then. */
export async function migrateRunner(runner: SqlRunner, options: MigrateOptions = {}): Promise<MigrateResult> {
  const t = tableNames(options);
  const target = targetOf(options);
  const from = await schemaVersion(runner, t);
  assertKnownVersion(from, t);
  if (from >= target) return { from, to: from };
  await runner.script(migrationSql({ ...options, targetVersion: target }));
  return { from, to: await schemaVersion(runner, t) };
}

/**
 * Brings the tables to the newest schema version (or `targetVersion`): for deploy pipelines that
 * run stores with `migrate: false`. Safe to run from several processes at once.
 *
 * ```ts
 * import pg from 'pg';
 * import { migrate } from '@agent-sessions/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool, { schema: 'agents' });
 * await pool.end();
 * ```
 */
export async function migrate(client: PgQueryable, options: MigrateOptions = {}): Promise<MigrateResult> {
  if (!isQueryable(client)) {
    throw new AgentSessionsError('invalid_input', 'migrate needs a client with a query method (pg.Pool, pg.Client, PGlite)', {
      source: 'postgres',
    });
  }
  try {
    return await migrateRunner(runnerFor(client), options);
  } catch (err) {
    throw wrapPgError('migrate', err);
  }
}

function targetOf(options: MigrateOptions): number {
  const target = options.targetVersion ?? SCHEMA_VERSION;
  if (!Number.isInteger(target) || target < 1 || target > SCHEMA_VERSION) {
    throw new AgentSessionsError('invalid_input', `targetVersion must be a whole number from 1 to ${SCHEMA_VERSION}`, {
      source: 'postgres',
    });
  }
  return target;
}
