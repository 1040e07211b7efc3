// The augmentation below needs the app entry in the program.
import type {} from '@agent-sessions/core';
import { registerAdapter } from '@agent-sessions/core/adapter';
import type { Runnable } from '@langchain/core/runnables';
import { isLangChainAgent, isLangChainRunnable, type AgentLike } from './detect.js';
import { SessionRunnable, type SessionWrapped, type WithSessionStorageOptions } from './wrap.js';

export { LANGCHAIN_FORMAT, langchainCodec, toStoredMessages, fromStoredMessages } from './codec.js';
export { isLangChainAgent, isLangChainRunnable, type AgentLike } from './detect.js';
export type { SessionInfo, SessionStorageOptions } from './options.js';
export {
  SessionRunnable,
  withSessionStorage,
  type SessionAgent,
  type SessionResult,
  type SessionWrapped,
  type WithSessionStorageOptions,
} from './wrap.js';
export { sessionStorageMiddleware, type SessionStorageMiddlewareOptions } from './middleware.js';
export { SessionChatMessageHistory, type SessionChatMessageHistoryOptions } from './chat-history.js';
export { langchainSummarizer, langchainLine, type LangChainSummarizerOptions } from './summary.js';
export type { SessionConfigurable, CheckedConfigurable } from './configurable.js';
export { langchainTranscript, langchainItemText } from './transcript.js';
export type { TranscriptTurn } from '@agent-sessions/core/adapter';

// Makes `withSessionStorage` from @agent-sessions/core return these types for LangChain input.
// The wrapped type follows the runnable's or agent's own input, output and call options.
declare module '@agent-sessions/core' {
  interface SessionAdapters<A> {
    /** A chat model, an LCEL chain or a compiled LangGraph graph. */
    langchain: {
      agent: Runnable;
      options: WithSessionStorageOptions;
      wrapped: A extends Runnable ? SessionWrapped<A> : never;
    };
    /** A `createAgent` agent (`ReactAgent`, which is not a Runnable). */
    'langchain-agent': {
      agent: AgentLike;
      options: WithSessionStorageOptions;
      wrapped: A extends AgentLike ? SessionWrapped<A> : never;
    };
  }
}

// Importing the package is what makes core's `withSessionStorage` accept LangChain runnables
// (package.json lists this module under "sideEffects").
registerAdapter<Runnable | AgentLike, WithSessionStorageOptions, SessionRunnable>({
  name: 'langchain',
  detect: (value: unknown): value is Runnable | AgentLike => isLangChainRunnable(value) || isLangChainAgent(value),
  wrap: (value, options) => new SessionRunnable(value, options),
});
