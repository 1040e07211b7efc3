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
    return {};
  },
};

/** Gives a message an id if it has none, the way LangGraph's messages reducer does. */
export function ensureId<M extends BaseMessage>(message: M): M {
  if (message.id === undefined || message.id === null || message.id === '') {
    message.id = randomUUID();
    // toDict() serializes lc_kwargs, not the field: keep both in step.
    (message.lc_kwargs as Record<string, unknown>).id = message.id;
  }
  return message;
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
  const stored = mapChatMessagesToStoredMessages(messages.map((m) => settle(ensureId(m))));
  return JSON.parse(JSON.stringify(stored)) as StoredMessage[];
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
