import { MemoryStore, type Run, type SessionStore } from '@agent-sessions/core';
import type { BaseMessage, StoredMessage } from '@langchain/core/messages';
import { tool } from 'langchain';
import { z } from 'zod';

/** A real LangChain tool the fake model can call. */
export const getWeather = tool(async ({ city }: { city: string }) => `It is sunny in ${city}.`, {
  name: 'get_weather',
  description: 'The weather in a city',
  schema: z.object({ city: z.string() }),
});

export function newStore(): MemoryStore {
  return new MemoryStore();
}

/** Every run of a session, oldest first, read straight from the store. */
export async function runsOf(store: SessionStore, sessionId: string, agentId = 'default', userId?: string): Promise<Run[]> {
  return store.listRuns({ agentId, sessionId, userId, limit: 1000 });
}

/** `type:text` for each stored item: a compact view of what a run holds. */
export function describeItems(run: Run): string[] {
  return (run.items as unknown as StoredMessage[]).map((m) => `${m.type}:${typeof m.data.content === 'string' ? m.data.content : JSON.stringify(m.data.content)}`);
}

/** `type:text` for each message a model received. */
export function describeMessages(messages: readonly BaseMessage[]): string[] {
  return messages.map((m) => `${m.getType()}:${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);
}
