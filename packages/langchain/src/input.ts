import { AgentSessionsError } from '@agent-sessions/core/adapter';
import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { BaseMessage, isBaseMessage, isBaseMessageChunk, type BaseMessageLike } from '@langchain/core/messages';
import type { RunnableConfig } from '@langchain/core/runnables';
import { concat } from '@langchain/core/utils/stream';
import { ensureId, toMessage } from './codec.js';
import { isGraph, isLangChainAgent, type AgentLike } from './detect.js';
import { SOURCE } from './session.js';

/** Whatever can be invoked with messages and return messages: a chat model, an LCEL chain, a graph. */
export type Target = import('@langchain/core/runnables').Runnable | AgentLike;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalid(message: string): AgentSessionsError {
  return new AgentSessionsError('invalid_input', message, { source: SOURCE });
}

/** The input's own messages, as BaseMessages with ids; undefined for input that is not messages. */
export function inputMessagesOf(input: unknown): { messages: BaseMessage[]; state: boolean } | undefined {
  if (typeof input === 'string') return { messages: [toMessage(input)], state: false };
  if (isBaseMessage(input)) return { messages: [ensureId(input)], state: false };
  if (Array.isArray(input)) return { messages: input.map((m) => toMessage(m as BaseMessageLike)), state: false };
  if (isRecord(input) && typeof input.toChatMessages === 'function') {
    // A PromptValue (the output of a ChatPromptTemplate).
    return { messages: (input.toChatMessages as () => BaseMessage[])().map((m) => ensureId(m)), state: false };
  }
  if (isRecord(input) && 'messages' in input) {
    const raw = input.messages;
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    return { messages: list.map((m) => toMessage(m as BaseMessageLike)), state: true };
  }
  return undefined;
}

/** A graph thread as its checkpointer holds it: its messages, and whether a run is paused in it. */
export interface ThreadState {
  messages: BaseMessage[];
  paused: boolean;
}

/** Reads a graph thread (`getState`), for agents and compiled graphs. */
export function threadReader(target: Target): ((config: RunnableConfig) => Promise<ThreadState>) | undefined {
  const graph = (isLangChainAgent(target) ? target.graph : target) as {
    getState?: (config: RunnableConfig) => Promise<{ values?: { messages?: unknown }; next?: unknown }>;
  };
  if (!isGraph(target) || typeof graph.getState !== 'function') return undefined;
  return async (config) => {
    const snapshot = await graph.getState!(config);
    const messages = snapshot.values?.messages;
    return {
      messages: Array.isArray(messages) ? messages.filter(isBaseMessage) : [],
      paused: Array.isArray(snapshot.next) && snapshot.next.length > 0,
    };
  };
}

/** Catches the final state of a graph run, whatever `streamMode` the caller streams with. */
export class FinalOutput extends BaseCallbackHandler {
  name = 'agent_sessions_final_output';
  override awaitHandlers = true;
  private root: string | undefined;
  output: unknown;

  override handleChainStart(_chain: unknown, _inputs: unknown, runId: string): void {
    this.root ??= runId;
  }

  override handleChainEnd(outputs: unknown, runId: string): void {
    if (runId === this.root) this.output = outputs;
  }
}

/** Adds up streamed chunks: message chunks and strings are concatenated, anything else replaces. */
export class Accumulator {
  value: unknown = undefined;

  add(chunk: unknown): void {
    if (this.value === undefined) this.value = chunk;
    else if (isBaseMessageChunk(chunk) && isBaseMessageChunk(this.value)) this.value = this.value.concat(chunk);
    else if (typeof chunk === 'string' && typeof this.value === 'string') this.value = concat(this.value, chunk);
    else this.value = chunk;
  }
}

