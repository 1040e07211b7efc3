import { MAX_PAGE } from '@agent-sessions/core/adapter';
import { generateSessionId, loadHistory, validateWindow, type Duration, type JsonObject, type SessionRef, type SessionStore, type WindowOptions } from '@agent-sessions/core/adapter';
import type { AgentInputItem, Session } from '@openai/agents';
import { OPENAI_AGENTS_FORMAT, fromStoredItems, openAIAgentsCodec, toStoredItems } from './codec.js';

export interface AgentSessionsSessionOptions {
  /** Where the session lives: any agent-sessions store. Required. */
  store: SessionStore;
  /** Scopes the session: two agents' sessions with the same id never meet. Required. */
  agentId: string;
  /** The session to use. Default: a new unguessable id from `generateSessionId()`. */
  sessionId?: string | undefined;
  /** The session's owner. A session owned by someone else behaves as absent. Default: none. */
  userId?: string | undefined;
  /** Which history `getItems()` (no limit) hands the runner. Default: the last 10 completed runs, pairs repaired. */
  window?: WindowOptions<AgentInputItem> | undefined;
  /** The session's time to live, refreshed by every `addItems`. Default: the store's. */
  ttl?: Duration | null | undefined;
  /** Metadata for the session the first `addItems` creates. Default: none. */
  sessionMetadata?: JsonObject | undefined;
}

/**
 * The OpenAI Agents SDK's own `Session` over an agent-sessions store, so
 * `run(agent, input, { session })` keeps its history there:
 *
 * - `getItems()` (what the runner calls before a run) returns the configured window: by default
 *   the last 10 completed runs, with no tool call split from its result;
 * - `getItems(n)` returns the latest `n` stored items, oldest first, as the SDK's contract says;
 * - each `addItems` batch becomes one run; an empty batch writes nothing;
 * - `popItem` removes the newest item, `clearSession` deletes the session.
 */
export class AgentSessionsSession implements Session {
  readonly store: SessionStore;
  readonly agentId: string;
  readonly sessionId: string;
  readonly userId: string | undefined;
  private readonly window: WindowOptions<AgentInputItem>;
  private readonly ttl: Duration | null | undefined;
  private readonly sessionMetadata: JsonObject | undefined;

  constructor(options: AgentSessionsSessionOptions) {
    this.store = options.store;
    this.agentId = options.agentId;
    this.sessionId = options.sessionId ?? generateSessionId();
    this.userId = options.userId;
    this.window = options.window ?? {};
    validateWindow(this.window);
    this.ttl = options.ttl;
    this.sessionMetadata = options.sessionMetadata;
  }

  private get ref(): SessionRef {
    return { agentId: this.agentId, sessionId: this.sessionId, userId: this.userId };
  }

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  async getItems(limit?: number): Promise<AgentInputItem[]> {
    if (limit === undefined) {
      const { items } = await loadHistory(this.store, this.ref, openAIAgentsCodec, this.window);
      return items;
    }
    // Zero or less is nothing (where `slice(-0)` would be everything); NaN is nothing too.
    const n = Math.floor(limit);
    return n > 0 ? this.latestItems(n) : [];
  }

  /** The latest `limit` stored items of any run, oldest first, read a page of runs at a time. */
  private async latestItems(limit: number): Promise<AgentInputItem[]> {
    const collected: AgentInputItem[][] = [];
    let count = 0;
    let beforeSeq: number | undefined;
    while (count < limit) {
      // Every run holds at least one item, so `limit - count` more runs always suffice.
      const want = Math.min(limit - count, MAX_PAGE);
      const runs = await this.store.listRuns({ ...this.ref, limit: want, beforeSeq });
      for (let i = runs.length - 1; i >= 0; i--) {
        const items = fromStoredItems(runs[i]!.items);
        collected.unshift(items);
        count += items.length;
      }
      const first = runs[0];
      if (!first || runs.length < want || first.seq <= 1) break;
      beforeSeq = first.seq;
    }
    return collected.flat().slice(-limit);
  }

  async addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.store.appendRun({
      ...this.ref,
      format: OPENAI_AGENTS_FORMAT,
      items: toStoredItems(items),
      ttl: this.ttl,
      sessionMetadata: this.sessionMetadata,
    });
  }

  async popItem(): Promise<AgentInputItem | undefined> {
    const popped = await this.store.popItem(this.ref);
    return popped ? fromStoredItems([popped.item])[0] : undefined;
  }

  async clearSession(): Promise<void> {
    await this.store.deleteSession(this.ref);
  }
}
