import { randomUUID } from 'node:crypto';
import type { ItemCodec, ItemInfo, JsonValue } from '@agent-sessions/core/adapter';
import {
  AIMessage,
  AIMessageChunk,
  BaseMessage,
  coerceMessageLikeToMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type BaseMessageLike,
  type StoredMessage,
} from '@langchain/core/messages';

/** The format tag stored on every run this adapter writes. */
export const LANGCHAIN_FORMAT = 'langchain';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * How the history window sees a stored LangChain message: an AI message with `tool_calls`
 * makes those calls (by id), a tool message is the result of its `tool_call_id`. With this,
 * core's repair never hands a model a ToolMessage whose AI message was cut off, or an AI
 * message whose tool calls have no results.
 */
export const langchainCodec: ItemCodec<StoredMessage> = {
  format: LANGCHAIN_FORMAT,
  inspect(item: StoredMessage): ItemInfo {
    const data = record(record(item)?.data);
    if (!data) return {};
    if (item.type === 'ai') {
      const calls = Array.isArray(data.tool_calls) ? data.tool_calls : [];
      const callIds = calls.map((c) => record(c)?.id).filter((id): id is string => typeof id === 'string' && id !== '');
      return callIds.length > 0 ? { callIds } : {};
    }
    if (item.type === 'tool' && typeof data.tool_call_id === 'string') return { resultFor: data.tool_call_id };
    // System messages are instructions: sent with the turn that carries them, never stored or replayed.
    if (item.type === 'system') return { instruction: true };
    return {};
  },
};

function hasId(message: BaseMessage): boolean {
  return !(message.id === undefined || message.id === null || message.id === '');
}

/**
 * A message with an id: the message itself when it has one, else a copy with a new one (the
 * way LangGraph's messages reducer names messages). The caller's object is never changed, so a
 * message object sent again on a later turn is a new message again; only an explicit id
 * identifies a message across turns.
 */
export function ensureId<M extends BaseMessage>(message: M): M {
  if (hasId(message)) return message;
  const Ctor = message.constructor as new (fields: Record<string, unknown>) => M;
  return new Ctor({ ...(message.lc_kwargs as Record<string, unknown>), id: randomUUID() });
}

/** Turns anything LangChain accepts as a message (`{ role, content }`, tuples, strings) into a BaseMessage with an id. */
export function toMessage(like: BaseMessageLike): BaseMessage {
  return ensureId(coerceMessageLikeToMessage(like));
}

/** A streamed chunk becomes the plain message it adds up to, so history never holds chunk fields. */
function settle(message: BaseMessage): BaseMessage {
  if (!AIMessageChunk.isInstance(message)) return message;
  return new AIMessage({
    content: message.content,
    id: message.id,
    name: message.name,
    tool_calls: message.tool_calls,
    invalid_tool_calls: message.invalid_tool_calls,
    usage_metadata: message.usage_metadata,
    additional_kwargs: message.additional_kwargs,
    response_metadata: message.response_metadata,
  });
}

/**
 * LangChain's own serialization (`mapChatMessagesToStoredMessages`), made plain JSON the way
 * LangChain's own history stores make it: through JSON.stringify, so `undefined` fields go away.
 */
export function toStoredMessages(messages: readonly BaseMessage[]): StoredMessage[] {
  const stored = JSON.parse(JSON.stringify(mapChatMessagesToStoredMessages(messages.map(settle)))) as StoredMessage[];
  // An id-less message gets one in its stored form only: the caller's object stays as it was.
  for (const item of stored) if (typeof item.data?.id !== 'string' || item.data.id === '') item.data.id = randomUUID();
  return stored;
}

/** Stored items back to messages (`mapStoredMessagesToChatMessages`). */
export function fromStoredMessages(items: readonly StoredMessage[]): BaseMessage[] {
  return mapStoredMessagesToChatMessages([...items]);
}

/** Stored messages as the store's item type. */
export function asItems(messages: StoredMessage[]): JsonValue[] {
  return messages as unknown as JsonValue[];
}

/** Adds up the token usage of the AI messages of a run, for the run's `usage` column. */
export function sumUsage(messages: readonly BaseMessage[]): { input_tokens: number; output_tokens: number; total_tokens: number } | null {
  let found = false;
  const total = { input_tokens: 0, output_tokens: 0, total_tokens: 0 };
  for (const m of messages) {
    if (!AIMessage.isInstance(m) && !AIMessageChunk.isInstance(m)) continue;
    const u = (m as AIMessage).usage_metadata;
    if (!u) continue;
    found = true;
    total.input_tokens += u.input_tokens ?? 0;
    total.output_tokens += u.output_tokens ?? 0;
    total.total_tokens += u.total_tokens ?? 0;
  }
  return found ? total : null;
}
