import { sessionStorageMiddleware } from '@agent-sessions/langchain';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, humanInTheLoopMiddleware } from 'langchain';
import { describe, expect, it } from 'vitest';
import { answering, describeItems, describeMessages, getWeather, newStore, runsOf, weatherModel } from './helpers.js';

const session = (sessionId: string) => ({ configurable: { sessionId } });

describe('sessionStorageMiddleware', () => {
  it('loads history before the agent and saves the new messages after it', async () => {
    const model = weatherModel('Lagos', 'Hot in Lagos.', 'Lagos.');
    const store = newStore();
    const agent = createAgent({ model, tools: [getWeather], middleware: [sessionStorageMiddleware({ store })] });

    const first = await agent.invoke({ messages: [new HumanMessage('Weather in Lagos?')] }, session('m1'));
    expect(first.sessionId).toBe('m1');
    await agent.invoke({ messages: [new HumanMessage('Which city?')] }, session('m1'));

    expect(describeMessages(model.calls[2]!.messages)).toEqual([
      'human:Weather in Lagos?',
      'ai:Weather in Lagos?',
      'tool:It is sunny in Lagos.',
      'ai:Hot in Lagos.',
      'human:Which city?',
    ]);
    expect((await runsOf(store, 'm1')).map(describeItems)).toEqual([
      ['human:Weather in Lagos?', 'ai:Weather in Lagos?', 'tool:It is sunny in Lagos.', 'ai:Hot in Lagos.'],
      ['human:Which city?', 'ai:Lagos.'],
    ]);
  });

  it('takes the session from the input state, and returns a generated one in the result', async () => {
    const model = answering('Noted.', 'You said: tea.');
    const store = newStore();
    const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store })] });

    const first = await agent.invoke({ messages: [new HumanMessage('I like tea.')] });
    expect(first.sessionId).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
    await agent.invoke({ messages: [new HumanMessage('What do I like?')], sessionId: first.sessionId });
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:I like tea.', 'ai:Noted.', 'human:What do I like?']);
  });

  it('records a run whose model throws as failed with its input, through wrapModelCall', async () => {
    const model = fakeModel().respond(new AIMessage('Fine.')).respond(new Error('quota exceeded')).respond(new AIMessage('Back.'));
    const store = newStore();
    const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store })] });
    await agent.invoke({ messages: [new HumanMessage('One.')] }, session('mf'));
    await expect(agent.invoke({ messages: [new HumanMessage('Two.')] }, session('mf'))).rejects.toThrow('quota exceeded');
    await agent.invoke({ messages: [new HumanMessage('Three.')] }, session('mf'));

    const runs = await runsOf(store, 'mf');
    expect(runs.map((r) => [r.status, describeItems(r)])).toEqual([
      ['completed', ['human:One.', 'ai:Fine.']],
      ['failed', ['human:Two.']],
      ['completed', ['human:Three.', 'ai:Back.']],
    ]);
    // Issue 15 item 6: one error shape for both adapters (core's turnMetadata), not a bare string.
    expect(runs[1]!.metadata).toEqual({ outcome: 'failed', error: { name: 'Error', message: 'quota exceeded' } });
    expect(describeMessages(model.calls[2]!.messages)).toEqual(['human:One.', 'ai:Fine.', 'human:Three.']);
  });

  it('works when the agent is streamed', async () => {
    const model = answering('Streamed.', 'Again.');
    const store = newStore();
    const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store })] });
    for await (const _ of await agent.stream({ messages: [new HumanMessage('Go.')] }, { ...session('ms'), streamMode: 'updates' })) void _;
    await agent.invoke({ messages: [new HumanMessage('More.')] }, session('ms'));
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:Go.', 'ai:Streamed.', 'human:More.']);
  });

  it('keeps two concurrent sessions on one agent apart', async () => {
    const echo = (msgs: { text: string }[]) => new AIMessage(`heard: ${msgs.map((m) => m.text).join(' | ')}`);
    const model = fakeModel().respond(echo).respond(echo).respond(echo).respond(echo);
    const store = newStore();
    const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store })] });
    const turn = (sessionId: string, text: string) => agent.invoke({ messages: [new HumanMessage(text)] }, session(sessionId));
    await Promise.all([turn('x', 'X1'), turn('y', 'Y1')]);
    const [x, y] = await Promise.all([turn('x', 'X2'), turn('y', 'Y2')]);
    expect(x.messages.at(-1)!.content).toBe('heard: X1 | heard: X1 | X2');
    expect(y.messages.at(-1)!.content).toBe('heard: Y1 | heard: Y1 | Y2');
    expect((await runsOf(store, 'x')).map(describeItems)).toEqual([
      ['human:X1', 'ai:heard: X1'],
      ['human:X2', 'ai:heard: X1 | heard: X1 | X2'],
    ]);
  });

  describe('with a LangGraph checkpointer (MemorySaver) as well', () => {
    it('does not duplicate history: the model sees each message once and each run is stored once', async () => {
      const model = weatherModel('Lima', 'Foggy in Lima.', 'Lima.', 'Still Lima.');
      const store = newStore();
      const checkpointer = new MemorySaver();
      const agent = createAgent({ model, tools: [getWeather], checkpointer, middleware: [sessionStorageMiddleware({ store })] });
      const thread = { configurable: { thread_id: 'cp-1' } };

      await agent.invoke({ messages: [new HumanMessage('Weather in Lima?')] }, thread);
      await agent.invoke({ messages: [new HumanMessage('Which city?')] }, thread);
      const third = await agent.invoke({ messages: [new HumanMessage('Sure?')] }, thread);

      const seen = describeMessages(model.calls[3]!.messages);
      expect(seen).toEqual([
        'human:Weather in Lima?',
        'ai:Weather in Lima?',
        'tool:It is sunny in Lima.',
        'ai:Foggy in Lima.',
        'human:Which city?',
        'ai:Lima.',
        'human:Sure?',
      ]);
      expect(third.messages).toHaveLength(8);
      expect(new Set(third.messages.map((m) => m.id)).size).toBe(8);
      expect((await runsOf(store, 'cp-1')).map((r) => r.items.length)).toEqual([4, 2, 2]);
    });

    it('saves a run paused for approval once it is resumed and finishes', async () => {
      const model = weatherModel('Oslo', 'Cold in Oslo.', 'Oslo.');
      const store = newStore();
      const agent = createAgent({
        model,
        tools: [getWeather],
        checkpointer: new MemorySaver(),
        middleware: [sessionStorageMiddleware({ store }), humanInTheLoopMiddleware({ interruptOn: { get_weather: true } })],
      });
      const thread = { configurable: { thread_id: 'hitl-m' } };
      const paused = await agent.invoke({ messages: [new HumanMessage('Weather in Oslo?')] }, thread);
      expect(paused.__interrupt__).toHaveLength(1);
      expect(await runsOf(store, 'hitl-m')).toEqual([]);

      await agent.invoke(new Command({ resume: { decisions: [{ type: 'approve' }] } }), thread);
      const turn = ['human:Weather in Oslo?', 'ai:Weather in Oslo?', 'tool:It is sunny in Oslo.', 'ai:Cold in Oslo.'];
      expect((await runsOf(store, 'hitl-m')).map(describeItems)).toEqual([turn]);
      await agent.invoke({ messages: [new HumanMessage('Which city?')] }, thread);
      expect(describeMessages(model.calls[2]!.messages)).toEqual([...turn, 'human:Which city?']);
    });

    it('the store is the source of truth: the window replaces the thread copy, and a fresh thread resumes from the store', async () => {
      const model = fakeModel()
        .respond(new AIMessage('A1.'))
        .respond(new Error('boom'))
        .respond(new AIMessage('A3.'))
        .respond(new AIMessage('A4.'))
        .respond(new AIMessage('A5.'));
      const store = newStore();
      const middleware = sessionStorageMiddleware({ store, window: { lastRuns: 1 } });
      const agent = createAgent({ model, tools: [], checkpointer: new MemorySaver(), middleware: [middleware] });
      const thread = { configurable: { thread_id: 'cp-2' } };

      await agent.invoke({ messages: [new HumanMessage('Q1.')] }, thread);
      await expect(agent.invoke({ messages: [new HumanMessage('Q2.')] }, thread)).rejects.toThrow('boom');
      await agent.invoke({ messages: [new HumanMessage('Q3.')] }, thread);
      // The failed turn's input stays out, and only the last completed run is in the window.
      expect(describeMessages(model.calls[2]!.messages)).toEqual(['human:Q1.', 'ai:A1.', 'human:Q3.']);
      await agent.invoke({ messages: [new HumanMessage('Q4.')] }, thread);
      expect(describeMessages(model.calls[3]!.messages)).toEqual(['human:Q3.', 'ai:A3.', 'human:Q4.']);

      // A new process with an empty checkpointer (MemorySaver lost on restart): history comes from the store.
      const restarted = createAgent({ model, tools: [], checkpointer: new MemorySaver(), middleware: [middleware] });
      await restarted.invoke({ messages: [new HumanMessage('Q5.')] }, thread);
      expect(describeMessages(model.calls[4]!.messages)).toEqual(['human:Q4.', 'ai:A4.', 'human:Q5.']);
      expect((await runsOf(store, 'cp-2')).map((r) => [r.status, describeItems(r)])).toEqual([
        ['completed', ['human:Q1.', 'ai:A1.']],
        ['failed', ['human:Q2.']],
        ['completed', ['human:Q3.', 'ai:A3.']],
        ['completed', ['human:Q4.', 'ai:A4.']],
        ['completed', ['human:Q5.', 'ai:A5.']],
      ]);
    });
  });
});
