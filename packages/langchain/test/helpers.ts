import { MemoryStore, type Run, type SessionStore } from '@agent-sessions/core';
import { AIMessage, type BaseMessage, type StoredMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { tool } from 'langchain';
import { expect } from 'vitest';
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

/** An offline model that answers each call with the next of `answers`. */
export function answering(...answers: string[]) {
  const model = fakeModel();
  for (const answer of answers) model.respond(new AIMessage(answer));
  return model;
}

/** An offline model that first calls `get_weather` for `city`, then answers with `answers`. */
export function weatherModel(city: string, ...answers: string[]) {
  const model = fakeModel().respondWithTools([{ name: 'get_weather', args: { city } }]);
  for (const answer of answers) model.respond(new AIMessage(answer));
  return model;
}

/**
 * Two turns of one session, each a question and its answer: the model's second call was sent
 * `system` (when given) and then the first turn and the second question, and the store holds
 * each turn as one run of its two messages.
 */
export async function expectTwoTurns(
  model: { calls: { messages: BaseMessage[] }[] },
  store: SessionStore,
  sessionId: string,
  [[q1, a1], [q2, a2]]: [[string, string], [string, string]],
  system?: string,
): Promise<void> {
  const sent = [`human:${q1}`, `ai:${a1}`, `human:${q2}`];
  expect(describeMessages(model.calls[1]!.messages)).toEqual(system === undefined ? sent : [`system:${system}`, ...sent]);
  expect((await runsOf(store, sessionId)).map(describeItems)).toEqual([
    [`human:${q1}`, `ai:${a1}`],
    [`human:${q2}`, `ai:${a2}`],
  ]);
}
