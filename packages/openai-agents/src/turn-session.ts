import { AgentSessionsError, NotImplementedError, storedInput, type JsonValue } from '@agent-sessions/core/adapter';
import type { AgentInputItem, Session, SessionHistoryRewriteArgs, SessionHistoryTransactionArgs } from '@openai/agents';
import { openAIAgentsCodec, toStoredItems } from './codec.js';
import { applyMutations, asItems, digestOf, sameItems } from './history.js';

const SOURCE = 'openai-agents';

/**
 * The `Session` one wrapped run hands the SDK's runner. It serves the history window loaded
 * for this run and collects what the runner decides to persist (the new input, then the
 * generated items, in one batch or several), so the wrapper writes the whole turn as one run
 * when the run ends. Letting the runner choose the items keeps its own rules: ids it strips,
 * items it dedupes, input it keeps out after a `sessionInputCallback`.
 *
 * What the runner sees (`getItems()`) is the window followed by what this run collected: it
 * only grows by what the runner adds, so the runner's reconciliation holds within the run.
 * History changes the runner makes (compaction, transactions, mutations) apply to this run's
 * items, which are stored as one run when it ends; stored runs are never rewritten by a turn.
 */
export class TurnSession implements Session {
  /** What the runner persisted during this run, as stored JSON, in order. */
  readonly collected: JsonValue[] = [];
  /** True once the runner replaced the history with a compaction item (server-side compaction). */
  compacted = false;
  private history: Promise<AgentInputItem[]> | undefined;
  private readonly operations = new Map<string, string>();

  constructor(
    private readonly sessionId: string,
    private readonly loadHistory: () => Promise<AgentInputItem[]>,
  ) {}

  /** Loads the window now, so a store failure surfaces before the model is called. */
  preload(): Promise<AgentInputItem[]> {
    this.history ??= this.loadHistory();
    return this.history;
  }

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  /** The window, then this run's items; from the latest compaction item on, as the runner reads it. */
  private async view(): Promise<JsonValue[]> {
    const items = this.compacted ? [...this.collected] : [...toStoredItems(await this.preload()), ...this.collected];
    return items;
  }

  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const view = await this.view();
    if (limit === undefined) return asItems(view);
    const n = Math.floor(limit);
    return n > 0 ? asItems(view.slice(-n)) : [];
  }

  async addItems(items: AgentInputItem[]): Promise<void> {
    // Snapshot now: the runner may reuse the objects it passed. Instructions are not stored.
    this.collected.push(...toStoredItems(storedInput(items, openAIAgentsCodec)));
  }

  async popItem(): Promise<AgentInputItem | undefined> {
    const item = this.collected.pop();
    return item === undefined ? undefined : asItems([item])[0];
  }

  /**
   * Server-side compaction (the model output starts with a `compaction` item): the turn is
   * stored as the compacted history the runner hands over, the compaction item first. Earlier
   * runs stay stored; the compaction item is where the next turn's history starts.
   */
  async replaceHistoryWithCompaction(items: AgentInputItem[]): Promise<void> {
    if ((items[0] as { type?: unknown } | undefined)?.type !== 'compaction') {
      throw new AgentSessionsError('invalid_input', 'replaceHistoryWithCompaction() takes items that start with a compaction item', {
        source: SOURCE,
      });
    }
    this.collected.splice(0, this.collected.length, ...toStoredItems(storedInput(items, openAIAgentsCodec)));
    this.compacted = true;
  }

  /** The SDK's atomic, idempotent history change, on this run's items (stored with the turn). */
  async applyHistoryTransaction(args: SessionHistoryTransactionArgs): Promise<void> {
    const { operationId, transaction } = args ?? ({} as SessionHistoryTransactionArgs);
    if (typeof operationId !== 'string' || operationId.trim() === '' || typeof transaction !== 'object' || transaction === null) {
      throw new AgentSessionsError('invalid_input', 'Session history transaction arguments are invalid.', { source: SOURCE });
    }
    const digest = digestOf(transaction);
    const seen = this.operations.get(operationId);
    if (seen !== undefined) {
      if (seen !== digest) throw conflict('Session history operation was already applied with a different transaction.');
      return;
    }
    if (transaction.type === 'append_items') {
      this.collected.push(...toStoredItems(transaction.items));
    } else if (transaction.type === 'replace_suffix') {
      const expected = toStoredItems(transaction.expectedSuffix);
      const start = this.collected.length - expected.length;
      // Only this run's items can be replaced: earlier turns are stored runs.
      if (start < 0 || !sameItems(this.collected.slice(start), expected)) {
        throw conflict('Session history suffix no longer matches the transaction precondition.');
      }
      this.collected.splice(start, expected.length, ...toStoredItems(transaction.replacement));
    } else {
      throw new AgentSessionsError('invalid_input', 'Unsupported session history transaction type.', { source: SOURCE });
    }
    this.operations.set(operationId, digest);
  }

  /** The SDK's history mutations (`replace_function_call`), on this run's items. */
  async applyHistoryMutations(args: SessionHistoryRewriteArgs): Promise<void> {
    const next = applyMutations(this.collected, args.mutations);
    this.collected.splice(0, this.collected.length, ...next);
  }

  async clearSession(): Promise<void> {
    throw new NotImplementedError(
      'a session cannot be cleared in the middle of a wrapped run (compaction goes through replaceHistoryWithCompaction); use store.deleteSession() between runs',
      { source: SOURCE },
    );
  }
}

function conflict(message: string): AgentSessionsError {
  return new AgentSessionsError('conflict', message, { source: SOURCE });
}
