import { AgentSessionsError, SessionStore, type AppendRunResult, type ErrorCode, type NormalizedAppend, type NormalizedCreate, type NormalizedList, type NormalizedListRuns, type NormalizedPrune, type NormalizedRead, type NormalizedUpdate, type NormalizedWrite, type PoppedItem, type PruneResult, type Run, type SessionHeader, type StoreCapabilities, type StoreOptions } from '@agent-sessions/core/store';
import { isQueryable, lazyRunner, openPool, runnerFor, type PgPoolOptions, type PgQueryable, type SqlRunner } from './client.js';
import { classifyPgError } from './classify.js';
import { migrateRunner } from './migrations.js';
import { tableNames, type NameOptions, type TableNames } from './names.js';
import { jsonParam, toHeader, toRun, type HeaderRow, type RunRow } from './rows.js';
import { statements, type Statements } from './sql.js';

export interface PostgresStoreOptions extends StoreOptions, NameOptions {
  /**
   * A `pg.Pool` (recommended: it reconnects after an outage), a `pg.Client`, a PGlite database,
   * or anything with the same `query(text, params)` method. The store never closes it.
   */
  client: PgQueryable;
  /**
   * Create or upgrade the tables on first use, under an advisory lock. Default: true. Set false
   * when a deploy pipeline runs `migrate()` (or `migrationSql()` through psql) instead.
   */
  migrate?: boolean | undefined;
  /**
   * Send statements as named prepared statements (pg's Pool and Client only), so the server
   * plans each once per connection. Default: true. Set false behind a pooler that cannot keep
   * prepared statements (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean | undefined;
}

/** Options of `PostgresStore.fromConnectionString`: the store's, plus the pool's. */
export interface PostgresConnectionOptions extends Omit<PostgresStoreOptions, 'client'> {
  /** Passed to `new pg.Pool()`; `connectionTimeoutMillis` defaults to 5000 here. */
  pool?: PgPoolOptions | undefined;
}

// Lets the factories hand the store a runner it owns, without a public option for it.
const RUNNER = Symbol('agent-sessions.postgres.runner');
interface InternalOptions extends Omit<PostgresStoreOptions, 'client'> {
  client?: PgQueryable | undefined;
  [RUNNER]?: SqlRunner | undefined;
}

/** Keeps a time inside what a bigint column (and a JS number) holds exactly. */
const bound = (ms: number): number => Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, ms));

/** How often a statement that lost a race (see sql.ts) is run again before giving up. */
const MAX_ATTEMPTS = 64;

type AppendRow = HeaderRow & {
  outcome: 'created' | 'exists' | 'expired' | 'denied' | 'retry';
  run_seq: string | number | null;
  run_created_at: string | number | null;
  run_status: string | null;
  run_format: string | null;
  run_items: string | null;
  run_usage: string | null;
  run_metadata: string | null;
};

/**
 * Sessions in PostgreSQL (or PGlite): a header row per session and a row per run, keyed by
 * (session, seq). Every operation is one statement in the common case; see sql.ts for how each
 * stays atomic and gapless under concurrent writers without explicit transactions.
 */
export class PostgresStore extends SessionStore {
  readonly name = 'postgres';
  readonly capabilities: StoreCapabilities = { nativeTtl: false };
  /** The schema the tables live in. */
  readonly schema: string;
  /** The prefix of the table names. */
  readonly tablePrefix: string;

  private readonly sql: SqlRunner;
  private readonly tables: TableNames;
  private readonly q: Statements;
  private readonly autoMigrate: boolean;
  private readonly runIdConstraint: string;
  private migrated: Promise<void> | undefined;

  constructor(options: PostgresStoreOptions) {
    // Times are stored as whole milliseconds (bigint): a clock with fractions is floored.
    const clock = options?.clock ?? Date.now;
    super({ ...options, clock: () => bound(Math.floor(clock())) });
    const internal = options as InternalOptions | undefined;
    const runner = internal?.[RUNNER];
    if (!runner && !isQueryable(internal?.client)) {
      throw new AgentSessionsError(
        'invalid_input',
        'Missing option "client": pass a pg.Pool, a pg.Client or a PGlite database, or use PostgresStore.fromConnectionString(url)',
        { source: 'postgres' },
      );
    }
    this.tables = tableNames(options);
    this.schema = this.tables.schema;
    this.tablePrefix = this.tables.prefix;
    this.q = statements(this.tables);
    this.sql = runner ?? runnerFor(internal?.client as PgQueryable, undefined, options.preparedStatements ?? true);
    this.autoMigrate = options.migrate ?? true;
    this.runIdConstraint = `${this.tablePrefix}_runs_run_id_key`;
  }

  /**
   * A store over a `pg.Pool` it opens (and `close()` ends). The pool fails a connection attempt
   * after `pool.connectionTimeoutMillis` (default 5000 ms), so an outage gives `unavailable`
   * errors instead of hanging; once the server is back the same store works again.
   */
  static fromConnectionString(url: string, options: PostgresConnectionOptions = {}): PostgresStore {
    if (typeof url !== 'string' || url.length === 0) {
      throw new AgentSessionsError('invalid_input', 'fromConnectionString needs a postgres:// URL', { source: 'postgres' });
    }
    const { pool, ...rest } = options;
    const internal: InternalOptions = {
      ...rest,
      [RUNNER]: lazyRunner(() => openPool(url, pool), rest.preparedStatements ?? true),
    };
    return new PostgresStore(internal as PostgresStoreOptions);
  }

  /** Migrates once per store, on first use; a failure (say, the server is down) is retried by the next call. */
  private ready(): Promise<void> | undefined {
    if (!this.autoMigrate) return undefined;
    this.migrated ??= migrateRunner(this.sql, { schema: this.schema, tablePrefix: this.tablePrefix }).then(
      () => {},
      (err: unknown) => {
        this.migrated = undefined;
        throw err;
      },
    );
    return this.migrated;
  }

  protected override classifyError(err: unknown): ErrorCode | undefined {
    return classifyPgError(err);
  }

  protected async doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    await this.ready();
    const newTtl = input.ttlMs === undefined ? input.defaultTtlMs : input.ttlMs;
    const params = [
      input.agentId,
      input.sessionId,
      input.userId,
      input.now,
      newTtl,
      input.ttlMs !== undefined,
      JSON.stringify(input.sessionMetadata),
      input.runId,
      input.status,
      input.format,
      JSON.stringify(input.items),
      jsonParam(input.usage),
      jsonParam(input.metadata),
    ];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let row: AppendRow | undefined;
      try {
        [row] = await this.sql.query<AppendRow>(this.q.append, params);
      } catch (err) {
        // A retry of this run id committed after our snapshot: the next attempt sees it.
        if (this.isRunIdConflict(err)) continue;
        throw err;
      }
      switch (row?.outcome) {
        case 'created':
          return {
            created: true,
            session: toHeader(row),
            run: {
              runId: input.runId,
              seq: Number(row.run_seq),
              createdAt: input.now,
              status: input.status,
              format: input.format,
              // What the database stored: the JSON text the items were sent as.
              items: JSON.parse(params[10] as string) as Run['items'],
              usage: input.usage === null ? null : (JSON.parse(params[11] as string) as Run['usage']),
              metadata: input.metadata === null ? null : (JSON.parse(params[12] as string) as Run['metadata']),
            },
          };
        case 'exists':
          return {
            created: false,
            session: toHeader(row),
            run: toRun({
              run_id: input.runId,
              seq: row.run_seq as string | number,
              created_at: row.run_created_at as string | number,
              status: row.run_status as string,
              format: row.run_format as string,
              items: row.run_items as string,
              usage: row.run_usage,
              metadata: row.run_metadata,
            }),
          };
        case 'denied':
          throw this.notFound(input);
        case 'expired':
          // The rare extra round trip: drop the expired session and its runs, then start afresh.
          await this.sql.query(this.q.purgeExpired, [input.agentId, input.sessionId, input.now]);
          break;
        default:
          // 'retry' or no row: the header changed after our snapshot; run again with a fresh one.
          break;
      }
    }
    throw this.raced('appendRun');
  }

  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    await this.ready();
    const rows = await this.sql.query<RunRow>(input.touch ? this.q.listRunsTouch : this.q.listRuns, [
      input.agentId,
      input.sessionId,
      input.userId,
      input.now,
      input.beforeSeq,
      input.limit,
    ]);
    const runs = rows.map(toRun);
    runs.reverse();
    return runs;
  }

  protected async doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    await this.ready();
    const [row] = await this.sql.query<HeaderRow>(input.touch ? this.q.getSessionTouch : this.q.getSession, [
      input.agentId,
      input.sessionId,
      input.userId,
      input.now,
    ]);
    return row ? toHeader(row) : null;
  }

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    await this.ready();
    const params = [
      input.agentId,
      input.sessionId,
      input.userId,
      input.now,
      input.ttlMs,
      JSON.stringify(input.metadata),
      JSON.stringify(input.state),
    ];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const [row] = await this.sql.query<HeaderRow & { outcome: string }>(this.q.createSession, params);
      if (row?.outcome === 'created') return { session: toHeader(row), created: true };
      if (row?.outcome === 'exists') return { session: toHeader(row), created: false };
      if (row?.outcome === 'denied') throw this.notFound(input);
      if (row?.outcome === 'expired') {
        await this.sql.query(this.q.purgeExpired, [input.agentId, input.sessionId, input.now]);
      }
      // No row: created by someone else after our snapshot; the next attempt sees it.
    }
    throw this.raced('createSession');
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    await this.ready();
    const [row] = await this.sql.query<HeaderRow & { updated: boolean }>(this.q.updateSession, [
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
    ]);
    if (!row) throw this.notFound(input);
    if (row.updated) return toHeader(row);
    // Our snapshot may predate the winning write: the version is at least one past the expected one then.
    const seen = Number(row.version);
    throw this.conflict(input, input.expectedVersion, seen === input.expectedVersion ? seen + 1 : seen);
  }

  protected async doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
    await this.ready();
    const params: unknown[] = [input.agentId, input.now];
    if (input.userId !== null) params.push(input.userId);
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
    const sql = this.q.listSessions({
      user: input.userId !== null,
      after: input.updatedAfter !== null,
      before: input.updatedBefore !== null,
      cursor: input.cursor !== null,
    });
    return (await this.sql.query<HeaderRow>(sql, params)).map(toHeader);
  }

  protected async doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    await this.ready();
    const rows = await this.sql.query(this.q.deleteSession, [input.agentId, input.sessionId, input.userId, input.now]);
    return rows.length > 0;
  }

  protected async doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    await this.ready();
    const params = [input.agentId, input.sessionId, input.userId, input.now];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const [row] = await this.sql.query<{ item: string; run_id: string; seq: string | number; won: boolean }>(
        this.q.popItem,
        params,
      );
      if (!row) return null; // absent for this caller, or no runs
      if (row.won) return { item: JSON.parse(row.item) as PoppedItem['item'], runId: row.run_id, seq: Number(row.seq) };
      // Another writer changed the session after our snapshot: read again, after a short random
      // pause once it has happened a few times, so a crowd of poppers spreads out.
      if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 20)));
    }
    throw this.raced('popItem');
  }

  protected async doPrune(input: NormalizedPrune): Promise<PruneResult> {
    await this.ready();
    const [row] = await this.sql.query<{ sessions: string | number; runs: string | number }>(this.q.prune, [
      input.agentId,
      input.now,
      input.runsCreatedBefore,
    ]);
    return { sessions: Number(row?.sessions ?? 0), runs: Number(row?.runs ?? 0) };
  }

  protected async doClose(): Promise<void> {
    await this.sql.end();
  }

  private isRunIdConflict(err: unknown): boolean {
    const e = err as { code?: unknown; constraint?: unknown };
    return e.code === '23505' && (e.constraint === undefined || e.constraint === this.runIdConstraint);
  }

  private raced(op: string): AgentSessionsError {
    return new AgentSessionsError(
      'unavailable',
      `${op} lost ${MAX_ATTEMPTS} races in a row against concurrent writers of the same session; try again`,
      { source: this.name },
    );
  }
}

/** A store over a runner it owns (createStoreFromUrl's PGlite); not part of the public API. */
export function storeOverRunner(runner: SqlRunner, options: Omit<PostgresStoreOptions, 'client'>): PostgresStore {
  const internal: InternalOptions = { ...options, [RUNNER]: runner };
  return new PostgresStore(internal as PostgresStoreOptions);
}
