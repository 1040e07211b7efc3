import {
  AgentSessionsError,
  adapterLogger,
  foldSummary,
  generateSessionId,
  isAgentSessionsError,
  summaryLogger,
  summaryWindow,
  validateSummary,
  validateWindow,
  warnWindowCut,
  type Duration,
  type JsonObject,
  type JsonValue,
  type Logger,
  type OpsLogger,
  type Run,
  type SessionRef,
  type SessionStore,
  type SummaryOptions,
  type WindowOptions,
} from '@agent-sessions/core/adapter';
import * as sdk from '@openai/agents';
import type {
  AgentInputItem,
  OpenAIResponsesCompactionResult,
  RunContext,
  RunContextAwareSession,
  SessionHistoryRewriteArgs,
  SessionHistoryTransactionArgs,
} from '@openai/agents';
import { OPENAI_AGENTS_FORMAT, toStoredItems } from './codec.js';
import {
  applyMutations,
  asItems,
  digestOf,
  loadModelWindow,
  markerMetadata,
  markerOf,
  operationRunId,
  readView,
  rewriteRun,
  sameItems,
  type HistoryMarker,
} from './history.js';
import { openAIAgentsSummaryItem } from './summary.js';

const SOURCE = 'openai-agents';
/** How often a history rewrite (transaction, mutation, pop) re-reads and retries after losing a race. */
const REWRITE_ATTEMPTS = 5;

// From 0.18 the runner reads the model's history through `getItemsWithCompactionOwnership` and
// every other history read (reconciliation, rollback) through `getItems`: the window can then go
// to the model while the runner compares against the stored history. Older runners read the
// model's history through `getItems` itself, so there it stays the window.
const RUNNER_HAS_MODEL_READ =
  typeof (sdk as unknown as Record<string, unknown>).isOpenAIResponsesCompactionOwnershipAwareSession === 'function';

export interface AgentSessionsSessionOptions {
  /** Where the session lives: any agent-sessions store. Required. */
  store: SessionStore;
  /** Scopes the session: two agents' sessions with the same id never meet. Required. */
  agentId: string;
  /** The session to use. Default: a new unguessable id from `generateSessionId()`. */
  sessionId?: string | undefined;
  /** The session's owner. A session owned by someone else behaves as absent. Default: none. */
  userId?: string | undefined;
  /** Which history the model is sent (and `getItems()` called by the app returns). Default: the last 10 completed runs, pairs repaired. */
  window?: WindowOptions<AgentInputItem> | undefined;
  /** The session's time to live, refreshed by every `addItems`. Default: the store's. */
  ttl?: Duration | null | undefined;
  /** Metadata for the session the first `addItems` creates. Default: none. */
  sessionMetadata?: JsonObject | undefined;
  /**
   * Fold the runs that leave the window into the session's summary after each `addItems`, and
   * put the summary before the window the model is sent (a user message, counted by
   * `window.maxTokens`), as the wrapper's `summary` option does. Made after the items are
   * stored, without delaying `addItems` (`await: true` waits for it); a summarizer that fails
   * never fails `addItems` and is retried after a later one. Default: none.
   */
  summary?: SummaryOptions | undefined;
  /**
   * Where warnings go (a summary not made, a window that left items out): any logger with
   * debug/info/warn/error (pino, console), called with ids and counts, never content. Default:
   * none (summary failures go to the store's `logger`).
   */
  logger?: Logger | undefined;
}

/**
 * The OpenAI Agents SDK's own `Session` over an agent-sessions store, so
 * `run(agent, input, { session })` keeps its history there:
 *
 * - the model is sent the configured window (by default the last 10 completed runs, no tool
 *   call split from its result), through the runner's model-input read;
 * - the runner's other reads (`getItems` with a run context) see the stored history, so its
 *   reconciliation of resumed writes and compaction compares against what is really stored;
 * - `getItems(n)` returns the latest `n` items, oldest first, as the SDK's contract says;
 * - each `addItems` batch becomes one run; an empty batch writes nothing;
 * - `popItem` removes the newest item, `clearSession` deletes the session;
 * - history transactions, mutations and compaction are each one atomic, idempotent append.
 */
export class AgentSessionsSession implements RunContextAwareSession<unknown> {
  /** The runner passes its run context to every history call: that is how its reads are told from the app's. */
  readonly acceptsRunContext = true as const;
  readonly store: SessionStore;
  readonly agentId: string;
  readonly sessionId: string;
  readonly userId: string | undefined;
  /** The window as configured: what the summary folds runs out of. */
  private readonly baseWindow: WindowOptions<AgentInputItem>;
  /** `baseWindow` with the summary before the history (with a `summary` option): what the model is sent. */
  private readonly windowOptions: WindowOptions<AgentInputItem>;
  private readonly ttl: Duration | null | undefined;
  private readonly sessionMetadata: JsonObject | undefined;
  private readonly summary: SummaryOptions | undefined;
  private readonly log: OpsLogger;
  /**
   * The runs of the latest window read, plus the runs appended since: the summary learns from
   * them which runs left the window without reading it again. Stale runs (other writers' appends
   * meanwhile) only make it fold less, never a run still in the window.
   */
  private knownRuns: Run[] | undefined;

  constructor(options: AgentSessionsSessionOptions) {
    this.store = options.store;
    this.agentId = options.agentId;
    this.sessionId = options.sessionId ?? generateSessionId();
    this.userId = options.userId;
    this.baseWindow = options.window ?? {};
    validateWindow(this.baseWindow);
    validateSummary(options.summary);
    this.summary = options.summary;
    this.windowOptions = summaryWindow(this.baseWindow, this.summary, openAIAgentsSummaryItem);
    this.ttl = options.ttl;
    this.sessionMetadata = options.sessionMetadata;
    this.log = adapterLogger(options.logger, SOURCE);
  }

  private get ref(): SessionRef {
    return { agentId: this.agentId, sessionId: this.sessionId, userId: this.userId };
  }

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  /**
   * No limit, called by the app: the window (what the model is sent). No limit, called by the
   * runner (with its run context): the stored history since the latest compaction item, which
   * only grows by what is appended. A limit: the latest `limit` stored items, oldest first.
   */
  async getItems(limit?: number, runContext?: RunContext<unknown>): Promise<AgentInputItem[]> {
    if (limit === undefined) {
      if (runContext !== undefined && RUNNER_HAS_MODEL_READ) return asItems((await readView(this.store, this.ref)).items);
      return this.modelWindow();
    }
    // Zero or less is nothing (where `slice(-0)` would be everything); NaN is nothing too.
    const n = Math.floor(limit);
    if (!(n > 0)) return [];
    return asItems((await readView(this.store, this.ref, n)).items.slice(-n));
  }

  /** The runner's model-input read (SDK 0.18+): the window, with a receipt the runner hands back. */
  async getItemsWithCompactionOwnership(_runContext?: RunContext<unknown>): Promise<{ items: AgentInputItem[]; ownership: object }> {
    return { items: await this.modelWindow(), ownership: {} };
  }

  /** The window: core's window over the runs, each change of history (replaced suffixes, compaction) applied. */
  private async modelWindow(): Promise<AgentInputItem[]> {
    const loaded = await loadModelWindow(this.store, this.ref, this.windowOptions);
    this.knownRuns = loaded.runs;
    warnWindowCut(this.log, this.ref, loaded.dropped, loaded.items.length);
    return loaded.items;
  }

  /** Appends the batch as one run; with a `summary` option, then folds what left the window (off the hot path by default). */
  async addItems(items: AgentInputItem[], _runContext?: RunContext<unknown>): Promise<void> {
    if (items.length === 0) return;
    const appended = await this.store.appendRun({ ...this.appendBase(), items: toStoredItems(items) });
    if (!this.summary) return;
    const known = this.knownRuns ? [...this.knownRuns.filter((r) => r.seq !== appended.run.seq), appended.run].slice(-1000) : undefined;
    this.knownRuns = known;
    const folding = foldSummary({
      store: this.store,
      ref: this.ref,
      options: this.summary,
      window: this.baseWindow,
      session: known ? appended.session : undefined,
      runs: known,
      source: SOURCE,
      logger: summaryLogger(this.log),
    });
    // foldSummary never rejects.
    if (this.summary.await) await folding;
  }

  /** The runner's append (SDK 0.18+). A receipt changes nothing here: no compaction is run behind the runner's back. */
  async addItemsWithCompactionOwnership(items: AgentInputItem[], _ownership: object | null, _runContext?: RunContext<unknown>): Promise<void> {
    await this.addItems(items);
  }

  /**
   * Server-side compaction (a model output that starts with a `compaction` item): appended as
   * one run, the compaction item first. It is the replay boundary: the history starts there,
   * and the runs before it stay stored as the record of what happened.
   */
  async replaceHistoryWithCompaction(items: AgentInputItem[], _runContext?: RunContext<unknown>): Promise<void> {
    const first = items[0] as { type?: unknown } | undefined;
    if (first?.type !== 'compaction') {
      throw new AgentSessionsError('invalid_input', 'replaceHistoryWithCompaction() takes items that start with a compaction item', {
        source: SOURCE,
      });
    }
    await this.append(toStoredItems(items));
  }

  /**
   * This session does not call `responses.compact` itself (wrap it in the SDK's
   * `OpenAIResponsesCompactionSession` for that): the window bounds what the model is sent.
   */
  async runCompaction(): Promise<OpenAIResponsesCompactionResult | null> {
    return null;
  }

  /** Removes and returns the newest item of the history. Concurrent pops never return the same item. */
  async popItem(_runContext?: RunContext<unknown>): Promise<AgentInputItem | undefined> {
    for (let attempt = 1; ; attempt++) {
      const { runs } = await this.store.readHistory({ ...this.ref, limit: 1 });
      const newest = runs[0];
      if (!newest) return undefined;
      const last = newest.items[newest.items.length - 1] as { type?: unknown } | undefined;
      const endsRewrite = newest.items.length === 1 && (markerOf(newest)?.replaces ?? 0) > 0;
      if (last?.type !== 'compaction' && !endsRewrite) {
        // The newest run's last item is the history's last item: the store pops it atomically.
        const popped = await this.store.popItem(this.ref);
        return popped ? asItems([popped.item])[0] : undefined;
      }
      // Removing that item from the store would bring back what it replaced: append the
      // history without it instead.
      const view = await readView(this.store, this.ref);
      const item = view.items[view.items.length - 1];
      if (item === undefined) return undefined;
      try {
        await this.rewrite(view.items, view.items.slice(0, -1), view.lastSeq, {});
        return asItems([item])[0];
      } catch (err) {
        if (!lostRace(err) || attempt >= REWRITE_ATTEMPTS) throw err;
      }
    }
  }

  async clearSession(_runContext?: RunContext<unknown>): Promise<void> {
    await this.store.deleteSession(this.ref);
  }

  /**
   * The SDK's atomic, idempotent history change: `append_items` or `replace_suffix`, as one run
   * whose id is derived from `operationId` (a retry finds it stored and changes nothing) and
   * whose append carries the `lastSeq` it checked the suffix against (`conflict` if another
   * write landed in between). Reusing an operation id for another transaction, or a suffix
   * that does not match, fails with `conflict` and changes nothing.
   */
  async applyHistoryTransaction(args: SessionHistoryTransactionArgs, _runContext?: RunContext<unknown>): Promise<void> {
    const { operationId, transaction } = checkTransaction(args);
    const runId = operationRunId(operationId);
    const digest = digestOf(transaction);
    const marker: HistoryMarker = { operationId, digest };
    if (transaction.type === 'append_items') {
      if (transaction.items.length === 0) return;
      const { run, created } = await this.store.appendRun({ ...this.appendBase(), runId, items: toStoredItems(transaction.items), metadata: markerMetadata(marker) });
      if (!created) assertSameOperation(markerOf(run), digest);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const view = await readView(this.store, this.ref);
      const done = view.runs.find((r) => r.runId === runId);
      if (done) return assertSameOperation(markerOf(done), digest);
      const expected = toStoredItems(transaction.expectedSuffix);
      const start = view.items.length - expected.length;
      if (start < 0 || !sameItems(view.items.slice(start), expected)) {
        throw preconditionFailed('Session history suffix no longer matches the transaction precondition.');
      }
      try {
        await this.rewrite(view.items, [...view.items.slice(0, start), ...toStoredItems(transaction.replacement)], view.lastSeq, marker, runId);
        return;
      } catch (err) {
        if (!lostRace(err) || attempt >= REWRITE_ATTEMPTS) throw err;
      }
    }
  }

  /** The SDK's history mutations (`replace_function_call`), applied as one append that restates the changed tail. */
  async applyHistoryMutations(args: SessionHistoryRewriteArgs): Promise<void> {
    if (args.mutations.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      const view = await readView(this.store, this.ref);
      const next = applyMutations(view.items, args.mutations);
      try {
        await this.rewrite(view.items, next, view.lastSeq, {});
        return;
      } catch (err) {
        if (!lostRace(err) || attempt >= REWRITE_ATTEMPTS) throw err;
      }
    }
  }

  private appendBase() {
    return { ...this.ref, format: OPENAI_AGENTS_FORMAT, ttl: this.ttl, sessionMetadata: this.sessionMetadata };
  }

  private async append(items: JsonValue[]): Promise<void> {
    await this.store.appendRun({ ...this.appendBase(), items });
  }

  /** Turns history `from` (read at `lastSeq`) into `to` with one append, or deletes the session when `to` is empty. */
  private async rewrite(from: JsonValue[], to: JsonValue[], lastSeq: number, marker: HistoryMarker, runId?: string): Promise<void> {
    const run = rewriteRun(from, to);
    if (run === null) return;
    if ('clear' in run) {
      await this.store.deleteSession(this.ref);
      return;
    }
    const { run: stored, created } = await this.store.appendRun({
      ...this.appendBase(),
      runId,
      items: run.items,
      metadata: markerMetadata({ ...marker, replaces: run.replaces }),
      expectedLastSeq: lastSeq,
    });
    if (!created && marker.digest !== undefined) assertSameOperation(markerOf(stored), marker.digest);
  }
}

function lostRace(err: unknown): boolean {
  return isAgentSessionsError(err) && err.code === 'conflict' && !(err as { historyPrecondition?: boolean }).historyPrecondition;
}

function assertSameOperation(stored: HistoryMarker | undefined, digest: string): void {
  if (stored?.digest !== digest) throw preconditionFailed('Session history operation was already applied with a different transaction.');
}

/** A `conflict` that re-reading cannot resolve: never retried. */
function preconditionFailed(message: string): AgentSessionsError {
  const err = new AgentSessionsError('conflict', message, { source: SOURCE });
  (err as { historyPrecondition?: boolean }).historyPrecondition = true;
  return err;
}

type Transaction = SessionHistoryTransactionArgs['transaction'];

function checkTransaction(args: SessionHistoryTransactionArgs): { operationId: string; transaction: Transaction } {
  const invalid = (message: string) => new AgentSessionsError('invalid_input', message, { source: SOURCE });
  if (typeof args !== 'object' || args === null) throw invalid('Session history transaction arguments are invalid.');
  const { operationId, transaction } = args;
  if (typeof operationId !== 'string' || operationId.trim() === '') {
    throw invalid('Session history transaction operationId must be a non-empty string.');
  }
  if (typeof transaction !== 'object' || transaction === null) throw invalid('Session history transaction must be an object.');
  if (transaction.type === 'append_items' && Array.isArray(transaction.items)) return { operationId, transaction };
  if (transaction.type === 'replace_suffix' && Array.isArray(transaction.expectedSuffix) && Array.isArray(transaction.replacement)) {
    return { operationId, transaction };
  }
  throw invalid('Unsupported session history transaction type.');
}
