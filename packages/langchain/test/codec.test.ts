import { type Run } from '@agent-sessions/core';
import { applyWindow, isWellFormed } from '@agent-sessions/core/adapter';
import {
  SessionChatMessageHistory,
  fromStoredMessages,
  langchainCodec,
  toStoredMessages,
  withSessionStorage,
} from '@agent-sessions/langchain';
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type StoredMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createAgent } from 'langchain';
import { describe, expect, it } from 'vitest';
import { answering, describeMessages, getWeather, newStore, runsOf, weatherModel } from './helpers.js';

const session = (sessionId: string) => ({ configurable: { sessionId } });

describe('LangChain serialization', () => {
  it('keeps tool calls, tool call ids, usage metadata and content arrays through a store', async () => {
    const store = newStore();
    const original = [
      new SystemMessage({ content: 'Be brief.', id: 'sys' }),
      new HumanMessage({
        id: 'h1',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        ],
      }),
      new AIMessage({
        id: 'a1',
        content: [{ type: 'text', text: 'Let me look it up.' }],
        tool_calls: [{ id: 'call_1', name: 'get_weather', args: { city: 'Lima', days: [1, 2] }, type: 'tool_call' }],
        usage_metadata: { input_tokens: 12, output_tokens: 7, total_tokens: 19, input_token_details: { cache_read: 4 } },
        response_metadata: { model_name: 'gpt-test', finish_reason: 'tool_calls' },
      }),
      new ToolMessage({ id: 't1', content: 'Foggy.', tool_call_id: 'call_1', name: 'get_weather', status: 'success' }),
      new AIMessageChunk({ id: 'a2', content: 'Foggy in Lima.', usage_metadata: { input_tokens: 20, output_tokens: 4, total_tokens: 24 } }),
    ];
    await store.appendRun({ agentId: 'default', sessionId: 'rt', format: 'langchain', items: toStoredMessages(original) as never });
    const [run] = await runsOf(store, 'rt');
    const back = fromStoredMessages(run!.items as unknown as StoredMessage[]);

    expect(back.map((m) => m.getType())).toEqual(['system', 'human', 'ai', 'tool', 'ai']);
    expect(back.map((m) => m.id)).toEqual(['sys', 'h1', 'a1', 't1', 'a2']);
    expect(back[1]!.content).toEqual(original[1]!.content);
    const ai = back[2] as AIMessage;
    expect(AIMessage.isInstance(ai)).toBe(true);
    expect(ai.content).toEqual([{ type: 'text', text: 'Let me look it up.' }]);
    expect(ai.tool_calls).toEqual([{ id: 'call_1', name: 'get_weather', args: { city: 'Lima', days: [1, 2] }, type: 'tool_call' }]);
    expect(ai.usage_metadata).toEqual({ input_tokens: 12, output_tokens: 7, total_tokens: 19, input_token_details: { cache_read: 4 } });
    expect(ai.response_metadata).toEqual({ model_name: 'gpt-test', finish_reason: 'tool_calls' });
    const toolMessage = back[3] as ToolMessage;
    expect(ToolMessage.isInstance(toolMessage)).toBe(true);
    expect(toolMessage.tool_call_id).toBe('call_1');
    expect(toolMessage.name).toBe('get_weather');
    // A streamed chunk comes back as a plain AI message, usage included.
    const last = back[4] as AIMessage;
    expect(AIMessageChunk.isInstance(last)).toBe(false);
    expect(last.usage_metadata?.total_tokens).toBe(24);
    expect(run!.items[4]).not.toHaveProperty('data.tool_call_chunks');
  });

  it('sums the usage of a run into the run record', async () => {
    const model = fakeModel().respond(
      new AIMessage({ content: 'ok', usage_metadata: { input_tokens: 5, output_tokens: 2, total_tokens: 7 } }),
    );
    const store = newStore();
    await withSessionStorage(model, { store }).invoke('hi', session('u'));
    const [run] = await runsOf(store, 'u');
    expect(run!.usage).toEqual({ input_tokens: 5, output_tokens: 2, total_tokens: 7 });
  });
});

describe('langchainCodec', () => {
  const items = toStoredMessages([
    new HumanMessage({ id: 'h', content: 'q' }),
    new AIMessage({
      id: 'a',
      content: '',
      tool_calls: [
        { id: 'c1', name: 'x', args: {} },
        { id: 'c2', name: 'y', args: {} },
      ],
    }),
    new ToolMessage({ id: 't1', content: '1', tool_call_id: 'c1' }),
    new ToolMessage({ id: 't2', content: '2', tool_call_id: 'c2' }),
    new AIMessage({ id: 'f', content: 'done' }),
  ]);

  it('sees AI messages with tool calls as calls and tool messages as their results', () => {
    expect(items.map((i) => langchainCodec.inspect(i))).toEqual([
      {},
      { callIds: ['c1', 'c2'] },
      { resultFor: 'c1' },
      { resultFor: 'c2' },
      {},
    ]);
    expect(langchainCodec.format).toBe('langchain');
  });

  it('lets the window drop a tool message whose AI message was cut off, and a call missing a result', () => {
    const run = (seq: number, its: StoredMessage[]): Run => ({
      runId: `r${seq}`,
      seq,
      createdAt: seq,
      status: 'completed',
      format: 'langchain',
      items: its as never,
      usage: null,
      metadata: null,
    });
    const cut = applyWindow([run(1, items)], langchainCodec, { maxItems: 3 });
    expect(cut.items.map((i) => i.data.id)).toEqual(['f']);
    expect(isWellFormed(cut.items, langchainCodec)).toBe(true);
    const partial = applyWindow([run(1, items.slice(0, 3))], langchainCodec);
    expect(partial.items.map((i) => i.data.id)).toEqual(['h']);
  });
});

describe('the model never receives a ToolMessage without the AI message that called it', () => {
  it('when a window edge falls between an AI tool call and its ToolMessage (maxItems)', async () => {
    const model = weatherModel('Kyiv', 'Sunny in Kyiv.', 'Kyiv.');
    const store = newStore();
    const agent = createAgent({ model, tools: [getWeather] });
    // Run 1 holds: human, ai(tool call), tool, ai. maxItems: 2 cuts between the call and its result.
    const wrapped = withSessionStorage(agent, { store, window: { maxItems: 2 } });
    await wrapped.invoke({ messages: [new HumanMessage('Weather in Kyiv?')] }, session('edge'));
    await wrapped.invoke({ messages: [new HumanMessage('Which city?')] }, session('edge'));

    const received = model.calls[2]!.messages;
    expect(describeMessages(received)).toEqual(['ai:Sunny in Kyiv.', 'human:Which city?']);
    for (const [i, m] of received.entries()) {
      if (!ToolMessage.isInstance(m)) continue;
      const callers = received.slice(0, i).filter((p) => AIMessage.isInstance(p) && p.tool_calls?.some((c) => c.id === m.tool_call_id));
      expect(callers).toHaveLength(1);
    }
  });

  it('when the call and its result were saved as separate runs and the window holds only the result', async () => {
    const store = newStore();
    const history = new SessionChatMessageHistory({ store, sessionId: 'split', window: { lastRuns: 2 } });
    await history.addMessage(new HumanMessage('Weather in Quito?'));
    await history.addMessage(new AIMessage({ content: '', tool_calls: [{ id: 'call_q', name: 'get_weather', args: { city: 'Quito' } }] }));
    await history.addMessage(new ToolMessage({ content: 'Rainy.', tool_call_id: 'call_q' }));
    await history.addMessage(new AIMessage('Rainy in Quito.'));

    const model = answering('Quito.');
    const chat = withSessionStorage(model, { store, window: { lastRuns: 3 } });
    await chat.invoke('Which city?', session('split'));
    // Runs 2-4 are in the window; run 2 (the call) has its result in run 3: both kept.
    expect(describeMessages(model.calls[0]!.messages)).toEqual(['ai:', 'tool:Rainy.', 'ai:Rainy in Quito.', 'human:Which city?']);

    const narrow = answering('Quito.');
    await withSessionStorage(narrow, { store, window: { lastRuns: 3 } }).invoke('Again?', session('split'));
    // Now runs 3-5: the ToolMessage's AI message is outside the window, so the ToolMessage goes too.
    expect(describeMessages(narrow.calls[0]!.messages)).toEqual([
      'ai:Rainy in Quito.',
      'human:Which city?',
      'ai:Quito.',
      'human:Again?',
    ]);
  });
});
