import { AgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { withSessionStorage, type SessionInfo } from '@agent-sessions/langchain';
import { AIMessage, HumanMessage, SystemMessage, type StoredMessage } from '@langchain/core/messages';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { fakeModel } from '@langchain/core/testing';
import { MemorySaver } from '@langchain/langgraph';
import { Command } from '@langchain/langgraph';
import { createAgent, humanInTheLoopMiddleware } from 'langchain';
import { describe, expect, it } from 'vitest';
import { answering, describeItems, describeMessages, expectTwoTurns, getWeather, newStore, runsOf, weatherModel } from './helpers.js';

const session = (sessionId: string, userId?: string) => ({ configurable: { sessionId, userId } });

describe('withSessionStorage over a chat model', () => {
  it('remembers earlier turns and saves each turn as one run', async () => {
    const model = answering('Hello Ada.', 'You are Ada.');
    const store = newStore();
    const chat = withSessionStorage(model, { store });

    const first = await chat.invoke('My name is Ada.', session('s1'));
    expect(first.content).toBe('Hello Ada.');
    const second = await chat.invoke([new HumanMessage('What is my name?')], session('s1'));
    expect(second.content).toBe('You are Ada.');

    expect(describeMessages(model.calls[1]!.messages)).toEqual([
      'human:My name is Ada.',
      'ai:Hello Ada.',
      'human:What is my name?',
    ]);
    const runs = await runsOf(store, 's1');
    expect(runs.map(describeItems)).toEqual([
      ['human:My name is Ada.', 'ai:Hello Ada.'],
      ['human:What is my name?', 'ai:You are Ada.'],
    ]);
    expect(runs.every((r) => r.status === 'completed' && r.format === 'langchain')).toBe(true);
  });

  it('puts leading system messages first and does not store them', async () => {
    const model = answering('Hola.', 'Adiós.');
    const store = newStore();
    const chat = withSessionStorage(model, { store });
    const system = () => new SystemMessage('Answer in Spanish.');
    await chat.invoke([system(), new HumanMessage('Hello.')], session('sys'));
    await chat.invoke([system(), new HumanMessage('Bye.')], session('sys'));
    await expectTwoTurns(model, store, 'sys', [['Hello.', 'Hola.'], ['Bye.', 'Adiós.']], 'Answer in Spanish.');
  });

  it('works with streamEvents', async () => {
    const model = answering('Evented.');
    const store = newStore();
    const chat = withSessionStorage(model, { store });
    const kinds = new Set<string>();
    for await (const event of chat.streamEvents('Events?', { ...session('ev'), version: 'v2' })) kinds.add(event.event);
    expect(kinds).toContain('on_chat_model_end');
    expect((await runsOf(store, 'ev')).map(describeItems)).toEqual([['human:Events?', 'ai:Evented.']]);
  });

  it('streams chunks and saves the whole message once the stream ends', async () => {
    const model = answering('Streamed answer.', 'Second.');
    const store = newStore();
    const chat = withSessionStorage(model, { store });

    const chunks: string[] = [];
    for await (const chunk of await chat.stream('Stream please.', session('st'))) chunks.push(String(chunk.content));
    expect(chunks.join('')).toBe('Streamed answer.');
    expect((await runsOf(store, 'st')).map(describeItems)).toEqual([['human:Stream please.', 'ai:Streamed answer.']]);

    await chat.invoke('Again.', session('st'));
    expect(describeMessages(model.calls[1]!.messages)).toEqual([
      'human:Stream please.',
      'ai:Streamed answer.',
      'human:Again.',
    ]);
  });

  it('records a run whose model throws as failed, with its input, and leaves it out of the next window', async () => {
    const model = fakeModel()
      .respond(new AIMessage('First answer.'))
      .respond(new Error('provider is down'))
      .respond(new AIMessage('Third answer.'));
    const store = newStore();
    const chat = withSessionStorage(model, { store });

    await chat.invoke('One.', session('err'));
    await expect(chat.invoke('Two.', session('err'))).rejects.toThrow('provider is down');
    await chat.invoke('Three.', session('err'));

    const runs = await runsOf(store, 'err');
    expect(runs.map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
    expect(describeItems(runs[1]!)).toEqual(['human:Two.']);
    // Issue 15 item 6: one error shape for both adapters (core's turnMetadata), not a bare string.
    expect(runs[1]!.metadata).toEqual({ outcome: 'failed', error: { name: 'Error', message: 'provider is down' } });
    expect(describeMessages(model.calls[2]!.messages)).toEqual(['human:One.', 'ai:First answer.', 'human:Three.']);
  });

  it('records a stream that fails midway as failed with its input', async () => {
    const model = fakeModel().respond(new Error('stream broke'));
    const store = newStore();
    const chat = withSessionStorage(model, { store });
    await expect(async () => {
      for await (const _ of await chat.stream('Hi.', session('sf'))) void _;
    }).rejects.toThrow('stream broke');
    const runs = await runsOf(store, 'sf');
    expect(runs.map((r) => [r.status, describeItems(r)])).toEqual([['failed', ['human:Hi.']]]);
  });

  it('records a stream the caller stops reading early as cancelled (status failed), with its input', async () => {
    const model = answering('Never read.', 'Next.');
    const store = newStore();
    const chain = withSessionStorage(model.pipe(new StringOutputParser()), { store });
    const stream = await chain.stream('Start.', session('early'));
    await stream.cancel();
    await chain.invoke('Next question.', session('early'));
    const runs = await runsOf(store, 'early');
    // Issue 15 item 6: a cancelled stream is stored as both adapters store it: failed, outcome cancelled.
    expect(runs.map((r) => [r.status, describeItems(r)])).toEqual([
      ['failed', ['human:Start.']],
      ['completed', ['human:Next question.', 'ai:Next.']],
    ]);
    expect(runs[0]!.metadata).toMatchObject({ outcome: 'cancelled', error: { name: 'Cancelled' } });
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:Next question.']);
  });

  it('batches runs of different sessions', async () => {
    const model = fakeModel()
      .respond((msgs) => new AIMessage(`echo ${msgs.at(-1)!.text}`))
      .respond((msgs) => new AIMessage(`echo ${msgs.at(-1)!.text}`));
    const store = newStore();
    const chat = withSessionStorage(model, { store });
    const out = await chat.batch(['a', 'b'], [session('b1'), session('b2')]);
    expect(out.map((m) => m.content).sort()).toEqual(['echo a', 'echo b']);
    expect((await runsOf(store, 'b1')).map(describeItems)).toEqual([['human:a', 'ai:echo a']]);
    expect((await runsOf(store, 'b2')).map(describeItems)).toEqual([['human:b', 'ai:echo b']]);
  });

  it('starts a new session with an unguessable id when the call names none, and hands the id back', async () => {
    const model = answering('Noted: blue.', 'Blue.');
    const store = newStore();
    const seen: SessionInfo[] = [];
    const chat = withSessionStorage(model, { store, onSession: (s) => void seen.push(s) });

    const first = await chat.invoke('My colour is blue.');
    const id = first.response_metadata.sessionId as string;
    expect(id).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
    expect(seen).toEqual([{ agentId: 'default', sessionId: id, userId: undefined, generated: true }]);

    await chat.invoke('Which colour?', session(id));
    expect(seen[1]).toMatchObject({ sessionId: id, generated: false });
    expect(describeMessages(model.calls[1]!.messages)).toEqual([
      'human:My colour is blue.',
      'ai:Noted: blue.',
      'human:Which colour?',
    ]);
    // Two calls without a session never share one.
    const other = await withSessionStorage(answering('x'), { store }).invoke('Hi.');
    expect(other.response_metadata.sessionId).not.toBe(id);
  });

  it('accepts thread_id as the session id', async () => {
    const model = answering('One.', 'Two.');
    const store = newStore();
    const chat = withSessionStorage(model, { store });
    await chat.invoke('First.', { configurable: { thread_id: 'thread-7' } });
    await chat.invoke('Second.', { configurable: { thread_id: 'thread-7' } });
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:First.', 'ai:One.', 'human:Second.']);
    expect(await runsOf(store, 'thread-7')).toHaveLength(2);
  });

  it("scopes sessions to their user: another user is refused before the model is called and writes nothing", async () => {
    const model = answering('Secret kept.', 'I know nothing.');
    const store = newStore();
    const chat = withSessionStorage(model, { store });
    await chat.invoke('My secret is 42.', session('owned', 'alice'));

    const err = await chat.invoke('What is the secret?', session('owned', 'mallory')).catch((e: unknown) => e);
    // Issue 15 item 4: refused before the model runs (it used to run, and only the save failed).
    expect(model.calls).toHaveLength(1);
    expect(err).toBeInstanceOf(AgentSessionsError);
    expect((err as AgentSessionsError).code).toBe('not_found');
    expect(await runsOf(store, 'owned', 'default', 'alice')).toHaveLength(1);
  });

  it('applies the window option: only the last N completed runs reach the model', async () => {
    const model = fakeModel();
    for (let i = 1; i <= 4; i++) model.respond(new AIMessage(`answer ${i}`));
    const store = newStore();
    const chat = withSessionStorage(model, { store, window: { lastRuns: 2 } });
    for (let i = 1; i <= 4; i++) await chat.invoke(`question ${i}`, session('w'));
    expect(describeMessages(model.calls[3]!.messages)).toEqual([
      'human:question 2',
      'ai:answer 2',
      'human:question 3',
      'ai:answer 3',
      'human:question 4',
    ]);
    expect(await runsOf(store, 'w')).toHaveLength(4);
  });

  it('rejects input that is not messages before anything runs', async () => {
    const model = answering('never');
    const chat = withSessionStorage(model, { store: newStore() });
    await expect(chat.invoke(42 as unknown as string, session('bad'))).rejects.toMatchObject({ code: 'invalid_input' });
    expect(model.callCount).toBe(0);
  });

  it('checks its options when built', () => {
    expect(() => withSessionStorage(fakeModel(), {} as { store: SessionStore })).toThrow(/missing option "store"/);
    expect(() => withSessionStorage(fakeModel(), { store: newStore(), window: { lastRuns: -1 } })).toThrow(/lastRuns/);
  });
});

describe('withSessionStorage over an LCEL chain', () => {
  it('wraps a prompt | model chain that takes { messages } and keeps the system prompt out of storage', async () => {
    const model = answering('Bonjour.', 'Au revoir.');
    const prompt = ChatPromptTemplate.fromMessages([['system', 'Answer in French.'], new MessagesPlaceholder('messages')]);
    const store = newStore();
    const chain = withSessionStorage(prompt.pipe(model), { store });

    await chain.invoke({ messages: [new HumanMessage('Hello.')] }, session('c'));
    const out = await chain.invoke({ messages: [new HumanMessage('Goodbye.')] }, session('c'));
    expect(out.content).toBe('Au revoir.');
    await expectTwoTurns(model, store, 'c', [['Hello.', 'Bonjour.'], ['Goodbye.', 'Au revoir.']], 'Answer in French.');
  });

  it('saves a chain that ends in a string parser as an AI message, invoked and streamed', async () => {
    const model = answering('plain text', 'more text');
    const store = newStore();
    const chain = withSessionStorage(model.pipe(new StringOutputParser()), { store });
    expect(await chain.invoke('Say something.', session('str'))).toBe('plain text');
    let streamed = '';
    for await (const chunk of await chain.stream('And more.', session('str'))) streamed += chunk;
    expect(streamed).toBe('more text');
    expect((await runsOf(store, 'str')).map(describeItems)).toEqual([
      ['human:Say something.', 'ai:plain text'],
      ['human:And more.', 'ai:more text'],
    ]);
  });
});

describe('withSessionStorage over a createAgent agent', () => {
  it('keeps tool calls and results across turns, and returns the session id in the state', async () => {
    const model = weatherModel('Paris', 'Sunny in Paris.', 'You asked about Paris.');
    const store = newStore();
    const agent = withSessionStorage(createAgent({ model, tools: [getWeather] }), { store });

    const first = await agent.invoke({ messages: [{ role: 'user', content: 'Weather in Paris?' }] }, session('a1'));
    expect(first.sessionId).toBe('a1');
    expect(first.messages.at(-1)!.content).toBe('Sunny in Paris.');
    await agent.invoke({ messages: [new HumanMessage('Which city did I ask about?')] }, session('a1'));

    expect(describeMessages(model.calls[2]!.messages)).toEqual([
      'human:Weather in Paris?',
      'ai:Weather in Paris?',
      'tool:It is sunny in Paris.',
      'ai:Sunny in Paris.',
      'human:Which city did I ask about?',
    ]);
    const runs = await runsOf(store, 'a1');
    expect(runs).toHaveLength(2);
    const [call, result] = [runs[0]!.items[1], runs[0]!.items[2]] as unknown as StoredMessage[];
    const toolCallId = (call!.data as unknown as { tool_calls: { id: string }[] }).tool_calls[0]!.id;
    expect(result!.data.tool_call_id).toBe(toolCallId);
  });

  it('hands a generated session id back in the state and resumes it', async () => {
    const model = answering('Noted.', 'You said hello.');
    const store = newStore();
    const agent = withSessionStorage(createAgent({ model, tools: [] }), { store });
    const first = await agent.invoke({ messages: [new HumanMessage('Hello.')] });
    expect(first.sessionId).toMatch(/^sess_/);
    await agent.invoke({ messages: [new HumanMessage('What did I say?')] }, session(first.sessionId));
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:Hello.', 'ai:Noted.', 'human:What did I say?']);
  });

  it('streams in any stream mode and saves the finished run', async () => {
    const model = weatherModel('Oslo', 'Sunny in Oslo.', 'Still sunny.', 'Yes.');
    const store = newStore();
    const agent = withSessionStorage(createAgent({ model, tools: [getWeather] }), { store });

    const updates: string[] = [];
    const stream = await agent.stream({ messages: [new HumanMessage('Weather in Oslo?')] }, { ...session('as'), streamMode: 'updates' });
    for await (const chunk of stream) updates.push(...Object.keys(chunk as object));
    expect(updates).toEqual(['model_request', 'tools', 'model_request']);

    let tokens = 0;
    const messages = await agent.stream({ messages: [new HumanMessage('And now?')] }, { ...session('as'), streamMode: 'messages' });
    for await (const _ of messages) tokens++;
    expect(tokens).toBeGreaterThan(0);

    const values = await agent.stream({ messages: [new HumanMessage('Sure?')] }, { ...session('as'), streamMode: 'values' });
    for await (const _ of values) void _;

    const runs = await runsOf(store, 'as');
    expect(runs.map(describeItems)).toEqual([
      ['human:Weather in Oslo?', 'ai:Weather in Oslo?', 'tool:It is sunny in Oslo.', 'ai:Sunny in Oslo.'],
      ['human:And now?', 'ai:Still sunny.'],
      ['human:Sure?', 'ai:Yes.'],
    ]);
    expect(describeMessages(model.calls[3]!.messages)).toHaveLength(7);
  });

  it('records an agent run whose model throws as failed with its input (afterAgent hooks would not run)', async () => {
    const model = fakeModel().respond(new AIMessage('Fine.')).respond(new Error('rate limited')).respond(new AIMessage('Back.'));
    const store = newStore();
    const agent = withSessionStorage(createAgent({ model, tools: [getWeather] }), { store });
    await agent.invoke({ messages: [new HumanMessage('Hi.')] }, session('ae'));
    await expect(agent.invoke({ messages: [new HumanMessage('Again?')] }, session('ae'))).rejects.toThrow('rate limited');
    await agent.invoke({ messages: [new HumanMessage('Third.')] }, session('ae'));

    const runs = await runsOf(store, 'ae');
    expect(runs.map((r) => [r.status, describeItems(r)])).toEqual([
      ['completed', ['human:Hi.', 'ai:Fine.']],
      ['failed', ['human:Again?']],
      ['completed', ['human:Third.', 'ai:Back.']],
    ]);
    expect(describeMessages(model.calls[2]!.messages)).toEqual(['human:Hi.', 'ai:Fine.', 'human:Third.']);
  });

  it('stores a run paused for approval as interrupted, and the resumed run (a Command) as completed', async () => {
    const model = weatherModel('Bern', 'Sunny in Bern.', 'Bern.');
    const store = newStore();
    const agent = withSessionStorage(
      createAgent({
        model,
        tools: [getWeather],
        checkpointer: new MemorySaver(),
        middleware: [humanInTheLoopMiddleware({ interruptOn: { get_weather: true } })],
      }),
      { store },
    );
    const paused = await agent.invoke({ messages: [new HumanMessage('Weather in Bern?')] }, session('hitl'));
    expect(paused.__interrupt__).toHaveLength(1);
    expect((await runsOf(store, 'hitl')).map((r) => [r.status, describeItems(r)])).toEqual([
      ['interrupted', ['human:Weather in Bern?', 'ai:Weather in Bern?']],
    ]);

    const resumed = await agent.invoke(new Command({ resume: { decisions: [{ type: 'approve' }] } }) as never, session('hitl'));
    expect(resumed.messages.at(-1)!.content).toBe('Sunny in Bern.');
    const turn = ['human:Weather in Bern?', 'ai:Weather in Bern?', 'tool:It is sunny in Bern.', 'ai:Sunny in Bern.'];
    expect((await runsOf(store, 'hitl')).map((r) => [r.status, describeItems(r)])).toEqual([
      ['interrupted', turn.slice(0, 2)],
      ['completed', turn],
    ]);

    await agent.invoke({ messages: [new HumanMessage('Which city?')] }, session('hitl'));
    expect(describeMessages(model.calls[2]!.messages)).toEqual([...turn, 'human:Which city?']);
  });

  it('keeps two concurrent sessions on one agent apart', async () => {
    const echo = (msgs: { text: string }[]) => new AIMessage(`heard: ${msgs.map((m) => m.text).join(' | ')}`);
    const model = fakeModel().respond(echo).respond(echo).respond(echo).respond(echo);
    const store = newStore();
    const agent = withSessionStorage(createAgent({ model, tools: [] }), { store });

    const turn = (sessionId: string, text: string) =>
      agent.invoke({ messages: [new HumanMessage(text)] }, session(sessionId));
    await Promise.all([turn('left', 'L1'), turn('right', 'R1')]);
    const [left, right] = await Promise.all([turn('left', 'L2'), turn('right', 'R2')]);

    expect(left.messages.at(-1)!.content).toBe('heard: L1 | heard: L1 | L2');
    expect(right.messages.at(-1)!.content).toBe('heard: R1 | heard: R1 | R2');
    expect((await runsOf(store, 'left')).map(describeItems)).toEqual([
      ['human:L1', 'ai:heard: L1'],
      ['human:L2', 'ai:heard: L1 | heard: L1 | L2'],
    ]);
    expect((await runsOf(store, 'right')).flatMap(describeItems).some((s) => s.includes('L'))).toBe(false);
  });

  it('with a checkpointer too, the model sees the window once: no duplicates, no stale or failed turns', async () => {
    const model = fakeModel()
      .respondWithTools([{ name: 'get_weather', args: { city: 'Rome' } }])
      .respond(new AIMessage('Sunny in Rome.'))
      .respond(new Error('overloaded'))
      .respond(new AIMessage('Rome, again.'))
      .respond(new AIMessage('Third turn.'));
    const store = newStore();
    const checkpointer = new MemorySaver();
    const agent = withSessionStorage(createAgent({ model, tools: [getWeather], checkpointer }), { store });
    const turn = (text: string) => agent.invoke({ messages: [new HumanMessage(text)] }, session('cp'));

    await turn('Weather in Rome?');
    await expect(turn('Fail now.')).rejects.toThrow('overloaded');
    await turn('Which city?');
    expect(describeMessages(model.calls[3]!.messages)).toEqual([
      'human:Weather in Rome?',
      'ai:Weather in Rome?',
      'tool:It is sunny in Rome.',
      'ai:Sunny in Rome.',
      'human:Which city?',
    ]);
    // The thread was keyed by the session id (no thread_id given) and holds the same messages.
    const saved = await checkpointer.getTuple({ configurable: { thread_id: 'cp' } });
    expect((saved?.checkpoint.channel_values.messages as unknown[]).length).toBe(6);

    // A narrower window applies even though the thread still holds older turns.
    const narrow = withSessionStorage(createAgent({ model, tools: [getWeather], checkpointer }), {
      store,
      window: { lastRuns: 1 },
    });
    const last = await narrow.invoke({ messages: [new HumanMessage('Third.')] }, session('cp'));
    expect(describeMessages(model.calls[4]!.messages)).toEqual(['human:Which city?', 'ai:Rome, again.', 'human:Third.']);
    expect(last.messages).toHaveLength(4);
    const runs = await runsOf(store, 'cp');
    expect(runs.map((r) => [r.status, r.items.length])).toEqual([
      ['completed', 4],
      ['failed', 1],
      ['completed', 2],
      ['completed', 2],
    ]);
  });
});
