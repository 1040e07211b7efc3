// A support agent with durable sessions. Offline (the default) it runs on the SDK's scripted
// model; with OPENAI_API_KEY set it talks to a real model (OPENAI_MODEL, default gpt-4.1-mini).
import { MemoryStore } from '@agent-sessions/core';
import { withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, setTracingDisabled, tool } from '@openai/agents';
import { z } from 'zod';
import { offlineModel } from './offline-model.js';

const online = Boolean(process.env.OPENAI_API_KEY);
if (!online) setTracingDisabled(true);

const lookupOrder = tool({
  name: 'lookup_order',
  description: 'Looks up the shipping status of an order.',
  parameters: z.object({ orderId: z.string() }),
  execute: async ({ orderId }) => `Order ${orderId}: shipped yesterday, arrives in 2 days.`,
});

const refundOrder = tool({
  name: 'refund_order',
  description: 'Refunds an order. A human must approve it.',
  parameters: z.object({ orderId: z.string() }),
  needsApproval: true,
  execute: async ({ orderId }) => `Order ${orderId} refunded.`,
});

const agent = new Agent({
  name: 'support',
  instructions: 'You are a brief, friendly support agent. Use the tools for anything about orders.',
  model: online ? (process.env.OPENAI_MODEL ?? 'gpt-4.1-mini') : offlineModel(),
  tools: [lookupOrder, refundOrder],
});

// Any agent-sessions store works here: PostgresStore, RedisStore, MongoStore.
const store = new MemoryStore();
const log = (line: string) => console.log(line);
log(`model: ${online ? 'OpenAI' : 'scripted (offline)'}`);

// Turn 1: no session named, so a new one starts; its id comes back on the result.
const support = withSessionStorage(agent, { store });
const first = await support.run('Hi, I am Ada. Where is my order 1234?', { userId: 'ada' });
const { sessionId } = first;
log(`session: ${sessionId.slice(0, 5)}…`);
log(`turn 1: ${String(first.finalOutput)}`);

// Turn 2: a second wrapper over the same store, as after a restart, continues the session.
const restarted = withSessionStorage(agent, { store });
const second = await restarted.run('What is my name?', { sessionId, userId: 'ada' });
log(`turn 2: ${String(second.finalOutput)}`);

// Turn 3, streamed: stored when the stream completes.
const stream = await restarted.run('When will it arrive?', { sessionId, userId: 'ada', stream: true });
let streamed = '';
for await (const event of stream) {
  if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') streamed += event.data.delta;
}
await stream.completed;
log(`turn 3 (streamed): ${streamed || String(stream.finalOutput)}`);

// Turn 4 stops for approval; the interrupted run is stored with its RunState.
const refund = await restarted.run('Please refund order 1234.', { sessionId, userId: 'ada' });
log(`turn 4: waiting for approval of ${refund.interruptions.map((i) => i.name).join(', ')}`);

// Later (any process): find the pending approval in the store, approve it, resume.
const pending = await withSessionStorage(agent, { store }).getInterruption({ sessionId, userId: 'ada' });
if (pending) {
  for (const item of pending.interruptions) pending.state.approve(item);
  const done = await restarted.run(pending.state, { sessionId, userId: 'ada' });
  log(`turn 4 (approved): ${String(done.finalOutput)}`);
}

const runs = await store.listRuns({ agentId: 'support', sessionId, userId: 'ada', limit: 20 });
log(`stored runs: ${runs.map((r) => `${r.seq}:${r.status}`).join(' ')}`);
log(`items in the last run: ${runs.at(-1)?.items.map((i) => (i as { type?: string }).type).join(', ')}`);
