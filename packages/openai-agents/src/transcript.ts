import type { AgentInputItem } from '@openai/agents';
import { contentText, transcript, type RunPagesOptions, type SessionStore, type TranscriptTurn } from '@agent-sessions/core/adapter';
import type { SessionRef } from '@agent-sessions/core';
import { fromStoredItems } from './codec.js';

/** Who said an item and its text, for titles, previews and transcripts; undefined for tool calls and the like. */
export function openAIItemText(item: unknown): { role: string; text: string } | undefined {
  if (!item || typeof item !== 'object') return undefined;
  const it = item as { type?: unknown; role?: unknown; content?: unknown };
  if (it.type !== undefined && it.type !== 'message') return undefined;
  if (typeof it.role !== 'string') return undefined;
  const text = contentText(it.content);
  return text === undefined ? undefined : { role: it.role, text };
}

/**
 * The whole conversation of a session as OpenAI Agents items, one turn at a time, oldest first,
 * read in bounded pages: failed and interrupted turns included, marked by `status` and `outcome`.
 *
 * ```ts
 * for await (const turn of openAITranscript(store, { agentId: 'support', sessionId })) render(turn.items);
 * ```
 */
export function openAITranscript(
  store: SessionStore,
  ref: SessionRef,
  options: RunPagesOptions = {},
): AsyncGenerator<TranscriptTurn<AgentInputItem>> {
  return transcript(store, ref, (items) => fromStoredItems(items), options);
}
