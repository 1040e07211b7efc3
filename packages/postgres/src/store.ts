import {
  AgentSessionsError,
  LOST_RACE,
  SessionStore,
  retryContention,
  type AppendRunResult,
  type DriverErrorTable,
  type History,
  type NormalizedAppend,
  type NormalizedCreate,
  type NormalizedImport,
  type NormalizedList,
  type NormalizedListRuns,
  type NormalizedPatch,
  type NormalizedRewriteRun,
  type NormalizedRewriteText,
  type NormalizedPrune,
  type NormalizedRead,
  type NormalizedUpdate,
  type NormalizedUserList,
  type NormalizedWrite,
  type PoppedItem,
  type PruneResult,
  type Run,
  type ServerInfo,
  type SessionHeader,
  type StoreCapabilities,
} from '@agent-sessions/core/store';
import { isQueryable, lazyRunner, runnerFor, type PgQueryable, type SqlRunner } from './client.js';
import { isPglite } from './pglite.js';
import { PG_ERRORS } from './errors.js';
import { HEADER_V2_VERSION, assertKnownVersion, migrateRunner, schemaVersion } from './migrations.js';
import { tableNames, type TableNames } from './names.js';
import type { PostgresConnectionOptions, PostgresStoreOptions } from './options.js';
import { openPool, serverOfUrl, type Opened } from './open.js';
import { headerFromDoc, lastSeqOfDoc, runFromDoc, undot, toHeader, toRun, type AppendRow, type HeaderRow, type HistoryRow, type PoppedRow, type RunRow } from './rows.js';
import { deleteOrphanRuns, deleteSession, prune, purgeExpired } from './deletes.js';
import { statements, type Statements } from './sql.js';
import { appendParams, bound, createParams, listParams, updateParams, userListParams, WindowTexts, writeRunsAhead } from './params.js';

// Lets the factories hand the store a runner it owns, without a public option for it.
const RUNNER = Symbol('agent-sessions.postgres.runner');
const PGLITE = Symbol('agent-sessions.postgres.pglite');
interface InternalOptions extends Omit<PostgresStoreOptions, 'client'> {
  client?: PgQueryable | undefined;
  [RUNNER]?: SqlRunner | undefined;
  /** The runner is over a PGlite database (see WindowTexts). */
  [PGLITE]?: boolean | undefined;
}


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

  protected override readonly driverErrors: DriverErrorTable = PG_ERRORS;
  private readonly sql: SqlRunner;
  private readonly tables: TableNames;
  private q: Statements;
  /** Window statements by kind, limit and whether beforeSeq is given (see WindowTexts). */
  private readonly windowTexts: WindowTexts;
  private readonly autoMigrate: boolean;
  private readonly runIdConstraint: string;

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
    this.windowTexts = new WindowTexts(() => this.q, internal?.[PGLITE] === true || isPglite(internal?.client));
    this.runIdConstraint = `${this.tablePrefix}_runs_run_id_key`;
  }

  /**
   * A store over a `pg.Pool` it opens (and `close()` ends). Every bound of the pool follows
   * `timeoutMs` (see `PostgresConnectionOptions.pool`), so an outage or a paused server gives
   * `unavailable` errors instead of hanging, and once the server is back the same store works.
   */
  static fromConnectionString(url: string, options: PostgresConnectionOptions = {}): PostgresStore {
    if (typeof url !== 'string' || url.length === 0) {
      throw new AgentSessionsError('invalid_input', 'fromConnectionString needs a postgres:// URL', { source: 'postgres' });
    }
    const { pool, ...rest } = options;
    const store: PostgresStore = new PostgresStore({
      ...rest,
      [RUNNER]: lazyRunner(() => openPool(url, pool ?? {}, store.timeoutMs), rest.preparedStatements ?? true, serverOfUrl(url)),
    } as InternalOptions as PostgresStoreOptions);
    return store;
  }

  /** Migrates (or, with `migrate: false`, checks the schema version) once, before the first call. */
  protected override async doSetup(): Promise<void> {
    const names = { schema: this.schema, tablePrefix: this.tablePrefix };
    if (this.autoMigrate) {
      await migrateRunner(this.sql, names);
      return;
    }
    const version = await schemaVersion(this.sql, this.tables);
    assertKnownVersion(version, this.tables);
    // Tables of an earlier version (a pipeline migrates later): that version's statements.
    if (version > 0 && version < HEADER_V2_VERSION) {
      this.q = statements(this.tables, false);
      this.windowTexts.clear();
    }
  }

  protected async doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    const params = appendParams(input, this.q.full);
    return this.contended('appendRun', async () => {
      const text = input.expectedLastSeq ? this.q.appendExpecting : this.q.append;
      let [row] = await this.sql.query<AppendRow>(text, params);
      // Refused: one more statement says why (the common path never sends it).
      row ??= (await this.sql.query<AppendRow>(this.q.appendWhy, [input.agentId, input.sessionId, input.userId, input.now, input.runId, input.expectedLastSeq]))[0];
      switch (row?.outcome) {
        case 'created': {
          // The database stored exactly the text sent: the input snapshot is what it holds. The
          // run is at the header's new last_seq.
          const session = headerFromDoc(row.doc as string);
          const { runId, status, format, items, usage, metadata, now } = input;
          const run: Run = { runId, seq: session.lastSeq, createdAt: now, status, format, items, usage, metadata };
          return { created: true, session, run };
        }
        case 'exists':
          return { created: false, session: headerFromDoc(row.doc as string), run: runFromDoc(row.run as string) };
        case 'denied':
          throw this.notFound(input);
        case 'stale':
          throw this.staleHistory(input, input.expectedLastSeq ?? 0, lastSeqOfDoc(row.doc));
        case 'expired':
          // The rare extra round trip: drop the expired session and its runs, then start afresh.
          await purgeExpired(this.sql, this.q, input.agentId, input.sessionId, input.now);
          return LOST_RACE;
        default:
          // 'retry' or no row: the header changed after our snapshot; run again with a fresh one.
          return LOST_RACE;
      }
    });
  }

  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    const { text, params } = this.windowTexts.read(input.touch ? 'listRunsTouch' : 'listRuns', input);
    const rows = await this.sql.query<RunRow>(text, params);
    const runs = rows.map(toRun);
    runs.reverse();
    return runs;
  }

  /** The header and the window in one statement, from one snapshot. */
  protected override async doReadHistory(input: NormalizedListRuns): Promise<History> {
    const { text, params } = this.windowTexts.read(input.touch ? 'readHistoryTouch' : 'readHistory', input);
    const rows = await this.sql.query<HistoryRow>(text, params);
    const [head] = rows;
    if (!head || Number(head.kind) !== 0) return { session: null, runs: [] };
    const runs: Run[] = [];
    for (let i = rows.length - 1; i >= 1; i--) runs.push(runFromDoc((rows[i] as HistoryRow).doc));
    return { session: headerFromDoc(head.doc), runs };
  }

  protected async doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    const [row] = await this.sql.query<HeaderRow>(input.touch ? this.q.getSessionTouch : this.q.getSession, [
      input.agentId,
      input.sessionId,
      input.userId,
      input.now,
    ]);
    return row ? toHeader(row) : null;
  }

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    const params = createParams(input);
    return this.contended('createSession', async () => {
      const [row] = await this.sql.query<HeaderRow & { outcome: string }>(this.q.createSession, params);
      if (row?.outcome === 'created') return { session: toHeader(row), created: true };
      if (row?.outcome === 'exists') return { session: toHeader(row), created: false };
      if (row?.outcome === 'denied') throw this.notFound(input);
      if (row?.outcome === 'expired') await purgeExpired(this.sql, this.q, input.agentId, input.sessionId, input.now);
      // No row: created by someone else after our snapshot; the next attempt sees it.
      return LOST_RACE;
    });
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    const [row] = await this.sql.query<HeaderRow & { updated: boolean }>(this.q.updateSession, updateParams(input, this.q.full));
    if (!row) throw this.notFound(input);
    if (row.updated) return toHeader(row);
    // Our snapshot may predate the winning write: the version is at least one past the expected one then.
    const seen = Number(row.version);
    throw this.conflict(input, input.expectedVersion, seen === input.expectedVersion ? seen + 1 : seen);
  }

  protected async doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
    const { shape, params } = listParams(input);
    return (await this.sql.query<HeaderRow>(this.q.listSessions(shape), params)).map(toHeader);
  }

  protected override async doListUserSessions(input: NormalizedUserList): Promise<SessionHeader[]> {
    const sql = this.q.listUserSessions({ agent: input.agentId !== null, after: input.after !== null });
    return (await this.sql.query<HeaderRow>(sql, userListParams(input))).map(toHeader);
  }

  /** Key rotation: one compare-and-set UPDATE of the run's items (see sql.ts). */
  protected override async doRewriteRun(input: NormalizedRewriteRun): Promise<boolean> {
    const rows = await this.sql.query(this.q.rewriteRun, [
      input.agentId, input.sessionId, input.userId, input.now, input.seq, input.runId, JSON.stringify(input.expected), JSON.stringify(input.items),
    ]);
    return rows.length === 1;
  }

  /** Key rotation: one compare-and-set UPDATE of the header's title and preview. */
  protected override async doRewriteText(input: NormalizedRewriteText): Promise<boolean> {
    this.needsV4('reencryptSession');
    const rows = await this.sql.query(this.q.rewriteText, [
      input.agentId, input.sessionId, input.userId, input.now, input.expected.title, input.expected.preview, input.title, input.preview,
    ]);
    return rows.length === 1;
  }

  /** renameSession / touchSession: one UPDATE; no row means absent, expired or another user's. */
  protected override async doPatchSession(input: NormalizedPatch): Promise<SessionHeader> {
    this.needsV4('renameSession / touchSession');
    const [row] = await this.sql.query<HeaderRow>(this.q.patchSession, [
      input.agentId,
      input.sessionId,
      input.userId,
      input.now,
      input.title !== undefined,
      input.title ?? null,
      input.touch,
    ]);
    if (!row) throw this.notFound(input);
    return toHeader(row);
  }

  /**
   * The header and its runs in one statement (atomic). A session of more than IMPORT_BATCH runs
   * goes in batches: runs first, under a header id reserved for them (no header points to them
   * yet, so no reader sees them), then the header with the last batch: the session appears
   * whole or not at all. If that last statement finds a live session, the runs written go again.
   */
  protected override async doImportSession(input: NormalizedImport): Promise<SessionHeader> {
    this.needsV4('restoreSession');
    const { reserved, params } = await writeRunsAhead(this.sql, this.q, input, () => this.doGetSession({ ...input, userId: null, touch: false }), () => this.exists(input));
    try {
      return await this.contended('restoreSession', async () => {
        const [row] = await this.sql.query<HeaderRow & { outcome: string }>(this.q.importSession, params);
        if (row?.outcome === 'created') return toHeader(row);
        if (row?.outcome === 'exists') throw this.exists(input);
        if (row?.outcome === 'expired') await purgeExpired(this.sql, this.q, input.agentId, input.sessionId, input.now);
        return LOST_RACE;
      });
    } catch (err) {
      // The runs written ahead of a header that never came belong to no session: remove them.
      if (reserved !== null) await deleteOrphanRuns(this.sql, this.q, reserved).catch(() => {});
      throw err;
    }
  }

  private needsV4(what: string): void {
    if (this.q.full) return;
    throw new AgentSessionsError(
      'not_implemented',
      `${what} needs schema version ${HEADER_V2_VERSION} of ${this.schema}.${this.tablePrefix}_*: run migrate() (this store has migrate: false)`,
      { source: this.name },
    );
  }

  protected async doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    return deleteSession(this.sql, this.q, [input.agentId, input.sessionId, input.userId, input.now]);
  }

  protected async doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    const params = [input.agentId, input.sessionId, input.userId, input.now];
    return this.contended('popItem', async () => {
      const [row] = await this.sql.query<PoppedRow>(this.q.popItem, params);
      if (!row) return null; // absent for this caller, or no runs
      // Another writer changed the session after our snapshot: read again.
      if (!row.won) return LOST_RACE;
      return { item: JSON.parse(row.item ?? 'null') as PoppedItem['item'], runId: undot(row.run_id), seq: Number(row.seq) };
    });
  }

  /** In batches of at most DELETE_BATCH rows per statement (see deletes.ts). */
  protected async doPrune(input: NormalizedPrune): Promise<PruneResult> {
    return prune(this.sql, this.q, [input.agentId, input.now, input.runsCreatedBefore]);
  }

  /**
   * For spans and metrics: the host, port and database of the pool this store opened
   * (`fromConnectionString`, `postgres://`), known once it is open, and always the schema
   * (`db.namespace` is `database|schema`, as OpenTelemetry names it for PostgreSQL). Never
   * credentials. An injected client's server is not looked into.
   */
  protected override serverInfo(): ServerInfo | undefined {
    const opened = this.sql.server?.();
    if (opened !== this.serverFrom || this.server === undefined) {
      this.serverFrom = opened;
      this.server = opened
        ? { address: opened.host, port: opened.port, namespace: opened.database ? `${opened.database}|${this.schema}` : this.schema }
        : { namespace: this.schema };
    }
    return this.server;
  }
  private server: ServerInfo | undefined;
  private serverFrom: Opened['server'];

  protected async doClose(): Promise<void> {
    await this.sql.end();
  }

  /** Runs `attempt` again while it loses races; gives up with `conflict` (see retryContention). */
  private contended<T>(op: string, attempt: () => Promise<T | typeof LOST_RACE>): Promise<T> {
    return retryContention(attempt, { op, source: this.name, isLostRace: (err) => this.isRunIdConflict(err) });
  }

  /** A retry of this run id committed after our snapshot: the next attempt sees it. */
  private isRunIdConflict(err: unknown): boolean {
    const e = err as { code?: unknown; constraint?: unknown };
    return e.code === '23505' && (e.constraint === undefined || e.constraint === this.runIdConstraint);
  }
}

/** A store over a runner it owns (createStoreFromUrl's PGlite); not part of the public API. */
export function storeOverRunner(runner: SqlRunner, options: Omit<PostgresStoreOptions, 'client'>, pglite = false): PostgresStore {
  const internal: InternalOptions = { ...options, [RUNNER]: runner, [PGLITE]: pglite };
  return new PostgresStore(internal as PostgresStoreOptions);
}
