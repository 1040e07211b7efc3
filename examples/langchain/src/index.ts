// A LangChain agent with durable sessions. Offline (the default) it runs on LangChain's own
// fakeModel(); with OPENAI_API_KEY set it talks to a real model (OPENAI_MODEL, default gpt-4.1-mini).
import { MemoryStore } from '@agent-sessions/core';
import { sessionStorageMiddleware, withSessionStorage } from '@agent-sessions/langchain';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { MemorySaver } from '@langchain/langgraph';
import { createAgent, tool } from 'langchain';
import { z } from 'zod';
import { offlineModel } from './offline-model.js';

const online = Boolean(process.env.OPENAI_API_KEY);

async function chatModel(): Promise<BaseChatModel> {
  if (!online) return offlineModel();
  // Loaded only with a key, so the offline run needs no OpenAI package at all.
  const { ChatOpenAI } = await import('@langchain/openai');
  return new ChatOpenAI({ model: process.env.OPENAI_MODEL ?? 'gpt-4.1-mini' });
}

const getWeather = tool(async ({ city }: { city: string }) => `Sunny, 24°C in ${city}.`, {
  name: 'get_weather',
  description: 'The weather forecast for a city.',
  schema: z.object({ city: z.string() }),
});

const log = (line: string) => console.log(line);
const lastText = (messages: BaseMessage[]) => messages.at(-1)?.text ?? '';

const model = await chatModel();
log(`model: ${online ? 'OpenAI' : 'fakeModel (offline)'}`);
const agent = createAgent({ model, tools: [getWeather], systemPrompt: 'You are a brief assistant.' });

// Any agent-sessions store works here: PostgresStore, RedisStore, MongoStore.
const store = new MemoryStore();

// Turn 1: no session named, so a new one starts; its id comes back in the result.
const assistant = withSessionStorage(agent, { store, agentId: 'assistant' });
const first = await assistant.invoke({ messages: [{ role: 'user', content: 'Hi, I am Ada.' }] }, { configurable: { userId: 'ada' } });
const { sessionId } = first;
log(`session: ${sessionId.slice(0, 5)}… (generated)`);
log(`turn 1: ${lastText(first.messages)}`);

// Turn 2: a second wrapper over the same store, as after a restart, continues the session.
const restarted = withSessionStorage(agent, { store, agentId: 'assistant' });
const config = { configurable: { sessionId, userId: 'ada' } };
const second = await restarted.invoke({ messages: [{ role: 'user', content: 'What is the weather in Lisbon?' }] }, config);
log(`turn 2: ${lastText(second.messages)}`);

// Turn 3: the model is down. The run is recorded as failed, with its input, and left out of the window.
const outage = withSessionStorage(createAgent({ model: fakeModel().alwaysThrow(new Error('503 Service Unavailable')), tools: [] }), {
  store,
  agentId: 'assistant',
});
await outage.invoke({ messages: [{ role: 'user', content: 'Are you there?' }] }, config).catch((err: Error) => {
  log(`turn 3: failed (${err.message})`);
});

// Turn 4, streamed: saved when the stream ends. The answer can only come from the stored history.
let streamed = '';
const stream = await restarted.stream(
  { messages: [{ role: 'user', content: 'What do you know about me so far?' }] },
  { ...config, streamMode: 'messages' },
);
for await (const [chunk] of stream) if (chunk.getType() === 'ai') streamed += chunk.text;
log(`turn 4 (streamed): ${streamed}`);

const runs = await store.listRuns({ agentId: 'assistant', sessionId, userId: 'ada', limit: 20 });
log(`stored runs: ${runs.map((r) => `${r.seq}:${r.status}`).join(' ')}`);
const items = runs[1]?.items as { type: string }[] | undefined;
log(`messages in run 2: ${items?.map((i) => i.type).join(', ')}`);

// The same through middleware, next to a LangGraph checkpointer: the window replaces the
// thread's copy of the history each run, so nothing is duplicated.
const notes = createAgent({
  model,
  tools: [],
  checkpointer: new MemorySaver(),
  middleware: [sessionStorageMiddleware({ store, agentId: 'notes' })],
});
const thread = { configurable: { thread_id: 'notes-1' } };
await notes.invoke({ messages: [{ role: 'user', content: 'Remember: the meeting is on Friday.' }] }, thread);
const recalled = await notes.invoke({ messages: [{ role: 'user', content: 'What did I tell you?' }] }, thread);
log(`middleware: ${lastText(recalled.messages)}`);
const noteRuns = await store.listRuns({ agentId: 'notes', sessionId: 'notes-1', limit: 20 });
log(`middleware: the thread holds ${recalled.messages.length} messages, the store ${noteRuns.length} runs of ${noteRuns.map((r) => r.items.length).join(' + ')}`);
