import type { BaseMessage, StoredMessage } from '@langchain/core/messages';
import { contentText, transcript, type RunPagesOptions, type SessionStore, type TranscriptTurn } from '@agent-sessions/core/adapter';
import type { SessionRef } from '@agent-sessions/core';
import { fromStoredMessages } from './codec.js';

const ROLES: Record<string, string> = { human: 'user', ai: 'assistant', system: 'system', developer: 'system', tool: 'tool' };

/** Who said a stored message and its text, for titles, previews and transcripts. */
export function langchainItemText(item: unknown): { role: string; text: string } | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const m = item as Partial<StoredMessage>;
  const role = typeof m.type === 'string' ? ROLES[m.type] : undefined;
  if (!role || role === 'tool') return undefined;
  const text = contentText(m.data?.content);
  return text === undefined ? undefined : { role, text };
}

/**
 * The whole conversation of a session as LangChain `BaseMessage`s, one turn at a time, oldest
 * first, read in bounded pages: failed and interrupted turns included, marked by `status` and
 * `outcome`.
 */
export function langchainTranscript(
  store: SessionStore,
  ref: SessionRef,
  options: RunPagesOptions = {},
): AsyncGenerator<TranscriptTurn<BaseMessage>> {
  return transcript(store, ref, (items) => fromStoredMessages(items as unknown as StoredMessage[]), options);
}
