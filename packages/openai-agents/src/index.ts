// The augmentation below needs the app entry in the program.
import type {} from '@agent-sessions/core';
import { registerAdapter } from '@agent-sessions/core/adapter';
import type { Agent } from '@openai/agents';
import { isOpenAIAgent } from './detect.js';
import type { WithSessionStorageOptions } from './options.js';
import { SessionAgent, withSessionStorage } from './wrap.js';

export { OPENAI_AGENTS_FORMAT, openAIAgentsCodec, toStoredItems, fromStoredItems } from './codec.js';
export { AgentSessionsSession, type AgentSessionsSessionOptions } from './session.js';
export { isOpenAIAgent } from './detect.js';
export { SessionAgent, withSessionStorage } from './wrap.js';
export { openAIAgentsSummarizer, openAIAgentsLine, openAIAgentsSummaryItem, type OpenAIAgentsSummarizerOptions } from './summary.js';
export type {
  WithSessionStorageOptions,
  SessionRunOptions,
  SessionRunInfo,
  SessionRunResult,
  SessionStreamedRunResult,
  PendingInterruption,
  StaleHistoryPolicy,
} from './options.js';
export { openAITranscript, openAIItemText } from './transcript.js';
export type { TranscriptTurn } from '@agent-sessions/core/adapter';

// Makes core's `withSessionStorage(agent, options)` return a SessionAgent for an OpenAI Agents
// agent, typed by the agent itself (its context and output types survive the wrapping).
declare module '@agent-sessions/core' {
  interface SessionAdapters<A> {
    'openai-agents': {
      agent: Agent<any, any>;
      options: WithSessionStorageOptions;
      wrapped: A extends Agent<any, any> ? SessionAgent<A> : never;
    };
  }
}

// Importing this package is what lets core's `withSessionStorage` recognise OpenAI Agents agents.
registerAdapter<Agent<any, any>, WithSessionStorageOptions, SessionAgent<Agent<any, any>>>({
  name: 'openai-agents',
  detect: isOpenAIAgent,
  wrap: (agent, options) => withSessionStorage(agent, options),
});
