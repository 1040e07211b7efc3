import { NotImplementedError, storedInput, type JsonValue } from '@agent-sessions/core/adapter';
import type { AgentInputItem, Session } from '@openai/agents';
import { openAIAgentsCodec, toStoredItems } from './codec.js';

/**
 * The `Session` one wrapped run hands the SDK's runner. It serves the history window loaded
 * for this run and collects what the runner decides to persist (the new input, then the
 * generated items, in one batch or several), so the wrapper writes the whole turn as one run
 * when the run ends. Letting the runner choose the items keeps its own rules: ids it strips,
 * items it dedupes, input it keeps out after a `sessionInputCallback`.
 */
export class TurnSession implements Session {
  /** What the runner persisted during this run, as stored JSON, in order. */
  readonly collected: JsonValue[] = [];
  private history: Promise<AgentInputItem[]> | undefined;

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

  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const history = structuredClone(await this.preload());
    if (limit === undefined) return history;
    const n = Math.floor(limit);
    return n > 0 ? history.slice(-n) : [];
  }

  async addItems(items: AgentInputItem[]): Promise<void> {
    // Snapshot now: the runner may reuse the objects it passed. Instructions are not stored.
    this.collected.push(...toStoredItems(storedInput(items, openAIAgentsCodec)));
  }

  async popItem(): Promise<AgentInputItem | undefined> {
    return this.collected.pop() as AgentInputItem | undefined;
  }

  async clearSession(): Promise<void> {
    throw new NotImplementedError(
      'a session cannot be cleared in the middle of a wrapped run; use store.deleteSession() between runs',
      { source: 'openai-agents' },
    );
  }
}
