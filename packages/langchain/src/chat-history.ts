import { AgentSessionsError, assertId, type SessionStore } from '@agent-sessions/core/adapter';
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import type { BaseMessage } from '@langchain/core/messages';
import type { SessionStorageOptions } from './options.js';
import { DEFAULT_AGENT_ID, SOURCE, checkOptions, loadMessages, saveRun, type ResolvedSession } from './session.js';

/** Options of `SessionChatMessageHistory`. */
export interface SessionChatMessageHistoryOptions extends Pick<SessionStorageOptions, 'window' | 'ttl' | 'summary'> {
  /** Where the messages are kept. Required. */
  store: SessionStore;
  /** The session. Required. */
  sessionId: string;
  /** Scopes the session. Default: `'default'`. */
  agentId?: string | undefined;
  /** The session's owner; another user's session reads as empty and cannot be written. Default: none. */
  userId?: string | undefined;
}

/**
 * A LangChain chat message history over any agent-sessions store, for code built on
 * `RunnableWithMessageHistory` or that calls a history directly.
 *
 * `getMessages()` returns the window (default: the last 10 completed runs, repaired so tool calls
 * keep their results). Each `addMessage` / `addMessages` call is one run, so the pair
 * `RunnableWithMessageHistory` saves per turn (input and output) is one run. `clear()` deletes the session.
 */
export class SessionChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ['agent_sessions', 'langchain', 'chat_history'];

  private readonly options: SessionChatMessageHistoryOptions;
  private readonly session: ResolvedSession;

  constructor(options: SessionChatMessageHistoryOptions) {
    super();
    checkOptions(options, 'SessionChatMessageHistory');
    if (options.sessionId === undefined) {
      throw new AgentSessionsError('invalid_input', 'SessionChatMessageHistory: missing option "sessionId"', {
        source: SOURCE,
      });
    }
    assertId(options.sessionId, 'sessionId', SOURCE);
    if (options.userId !== undefined) assertId(options.userId, 'userId', SOURCE);
    this.options = options;
    this.session = {
      agentId: options.agentId ?? DEFAULT_AGENT_ID,
      sessionId: options.sessionId,
      userId: options.userId,
      generated: false,
    };
  }

  async getMessages(): Promise<BaseMessage[]> {
    return (await loadMessages(this.options, this.session)).messages;
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  override async addMessages(messages: BaseMessage[]): Promise<void> {
    await saveRun(this.options, this.session, { messages, end: 'completed' });
  }

  override async clear(): Promise<void> {
    await this.options.store.deleteSession({
      agentId: this.session.agentId,
      sessionId: this.session.sessionId,
      userId: this.session.userId,
    });
  }
}
