import { MemoryStore } from '@agent-sessions/core';
import { AgentSessionsSession } from '@agent-sessions/openai-agents';
import { Agent, RunState, run, tool, type AgentInputItem } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { describe, expect, it } from 'vitest';
import { expectToolTurnResent, inputProblems, requestInputs, texts, types, weather, weatherModel, wipe } from './helpers.js';

const user = (text: string): AgentInputItem => ({ type: 'message', role: 'user', content: text });
const reply = (text: string): AgentInputItem => assistantMessage(text) as AgentInputItem;

function setup(options: { userId?: string; sessionId?: string } = {}) {
  const store = new MemoryStore();
  const session = new AgentSessionsSession({ store, agentId: 'tester', ...options });
  return { store, session };
}

describe('AgentSessionsSession: the SDK Session contract', () => {
  it('getSessionId() returns the given id, or a new unguessable one per session', async () => {
    const { session } = setup({ sessionId: 'chosen' });
    expect(await session.getSessionId()).toBe('chosen');
    const a = await setup().session.getSessionId();
    const b = await setup().session.getSessionId();
    expect(a).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
  });

  it('each addItems() batch becomes one run in the store; an empty batch writes nothing', async () => {
    const { store, session } = setup({ sessionId: 's1' });
    await session.addItems([]);
    expect(await store.getSession({ agentId: 'tester', sessionId: 's1' })).toBeNull();
    await session.addItems([user('a'), reply('b')]);
    await session.addItems([user('c')]);
    const runs = await store.listRuns({ agentId: 'tester', sessionId: 's1', limit: 10 });
    expect(runs.map((r) => r.items.length)).toEqual([2, 1]);
    expect(runs.every((r) => r.format === 'openai-agents' && r.status === 'completed')).toBe(true);
  });

  it('getItems(n) returns the latest n items oldest first; more than stored gives all; 0 or less gives none', async () => {
    const { session } = setup();
    await session.addItems([user('1'), reply('2')]);
    await session.addItems([user('3')]);
    await session.addItems([reply('4'), user('5')]);
    expect(texts(await session.getItems(3))).toEqual(['user: 3', 'assistant: 4', 'user: 5']);
    expect(texts(await session.getItems(1))).toEqual(['user: 5']);
    expect(await session.getItems(100)).toHaveLength(5);
    // slice(-0) would return everything: the contract says nothing.
    expect(await session.getItems(0)).toEqual([]);
    expect(await session.getItems(-2)).toEqual([]);
  });

  it('getItems(n) pages back through more runs than one store page holds', async () => {
    const { session } = setup();
    for (let i = 0; i < 1003; i++) await session.addItems([user(String(i))]);
    const items = await session.getItems(1002);
    expect(items).toHaveLength(1002);
    expect(texts(items.slice(0, 2))).toEqual(['user: 1', 'user: 2']);
    expect(texts(items.slice(-1))).toEqual(['user: 1002']);
  });

  it('getItems() with no limit returns the window: by default the last 10 runs', async () => {
    const { session } = setup();
    for (let i = 0; i < 12; i++) await session.addItems([user(`q${i}`), reply(`a${i}`)]);
    const items = await session.getItems();
    expect(items).toHaveLength(20);
    expect(texts(items)[0]).toBe('user: q2');
    const narrow = new AgentSessionsSession({
      store: session.store,
      agentId: 'tester',
      sessionId: session.sessionId,
      window: { lastRuns: 2 },
    });
    expect(texts(await narrow.getItems())).toEqual(['user: q10', 'assistant: a10', 'user: q11', 'assistant: a11']);
  });

  it('popItem() removes and returns the newest item; clearSession() deletes the session', async () => {
    const { store, session } = setup({ sessionId: 's2' });
    expect(await session.popItem()).toBeUndefined();
    await session.addItems([user('a')]);
    await session.addItems([user('b'), reply('c')]);
    expect(texts([(await session.popItem())!])).toEqual(['assistant: c']);
    expect(texts([(await session.popItem())!])).toEqual(['user: b']);
    expect(texts(await session.getItems(10))).toEqual(['user: a']);
    await session.clearSession();
    expect(await session.getItems()).toEqual([]);
    expect(await store.getSession({ agentId: 'tester', sessionId: 's2' })).toBeNull();
  });

  it('a session owned by one user is absent for another', async () => {
    const store = new MemoryStore();
    const mine = new AgentSessionsSession({ store, agentId: 'tester', sessionId: 'x', userId: 'u1' });
    const theirs = new AgentSessionsSession({ store, agentId: 'tester', sessionId: 'x', userId: 'u2' });
    await mine.addItems([user('secret')]);
    expect(await theirs.getItems()).toEqual([]);
    expect(await theirs.getItems(5)).toEqual([]);
    await expect(theirs.addItems([user('intrude')])).rejects.toMatchObject({ code: 'not_found' });
    expect(texts(await mine.getItems())).toEqual(['user: secret']);
  });

  it('items handed out cannot change what is stored; binary data is stored as base64', async () => {
    const { session } = setup();
    const bytes = new Uint8Array([104, 105]);
    await session.addItems([
      {
        type: 'function_call_result',
        name: 'snap',
        callId: 'c1',
        status: 'completed',
        output: { type: 'image', image: { data: bytes, mediaType: 'image/png' } },
      } as AgentInputItem,
      reply('ok'),
    ]);
    const [stored] = (await session.getItems(2)) as unknown as Array<{ output: { image: { data: unknown } } }>;
    expect(stored!.output.image.data).toBe('aGk=');
    stored!.output.image.data = 'changed';
    const [again] = (await session.getItems(2)) as unknown as Array<{ output: { image: { data: unknown } } }>;
    expect(again!.output.image.data).toBe('aGk=');
  });

  it('rejects items the store cannot hold before writing anything', async () => {
    const { store, session } = setup({ sessionId: 's3' });
    await expect(
      session.addItems([user('ok'), { type: 'message', role: 'user', content: new Date() } as unknown as AgentInputItem]),
    ).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await store.getSession({ agentId: 'tester', sessionId: 's3' })).toBeNull();
  });
});

describe('AgentSessionsSession with run(agent, input, { session })', () => {
  it('remembers earlier turns, across Session objects over the same store', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('Hello Ada')], [assistantMessage('You are Ada')]]);
    const agent = new Agent({ name: 'memo', instructions: 'Be brief.', model });
    const first = new AgentSessionsSession({ store, agentId: 'memo', sessionId: 'chat' });
    await run(agent, 'I am Ada', { session: first });
    // A new Session object, as after a restart.
    const second = new AgentSessionsSession({ store, agentId: 'memo', sessionId: 'chat' });
    const result = await run(agent, 'Who am I?', { session: second });
    expect(result.finalOutput).toBe('You are Ada');
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: I am Ada', 'assistant: Hello Ada', 'user: Who am I?']);
    const runs = await store.listRuns({ agentId: 'memo', sessionId: 'chat', limit: 10 });
    expect(runs).toHaveLength(2);
    expect(texts(runs[1]!.items as AgentInputItem[])).toEqual(['user: Who am I?', 'assistant: You are Ada']);
    model.assertComplete();
  });

  it('stores a tool-using turn with its call and result, streamed or not', async () => {
    for (const stream of [false, true]) {
      const store = new MemoryStore();
      const model = weatherModel('Paris', 'c1', 'Sunny.', 'Still sunny.');
      const agent = new Agent({ name: 'tools', model, tools: [weather] });
      const session = new AgentSessionsSession({ store, agentId: 'tools', sessionId: 't' });
      if (stream) {
        const s = await run(agent, 'Weather in Paris?', { session, stream: true });
        for await (const _ of s) void _;
        await s.completed;
      } else {
        await run(agent, 'Weather in Paris?', { session });
      }
      const stored = await session.getItems();
      expect(types(stored)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
      await run(agent, 'And now?', { session });
      expectToolTurnResent(model);
    }
  });

  it('never hands the model an orphan result when the window edge cuts a call from its result', async () => {
    const store = new MemoryStore();
    const model = weatherModel('Oslo', 'c9', 'Cold.');
    const agent = new Agent({ name: 'edge', model, tools: [weather] });
    await run(agent, 'Weather in Oslo?', { session: new AgentSessionsSession({ store, agentId: 'edge', sessionId: 'e' }) });
    // Stored turn: user, function_call, function_call_result, assistant. The last 2 items start
    // at the result, so a raw cut would hand the model a result whose call is gone.
    const raw = await new AgentSessionsSession({ store, agentId: 'edge', sessionId: 'e' }).getItems(2);
    expect(types(raw)).toEqual(['function_call_result', 'message']);

    for (let maxItems = 0; maxItems <= 5; maxItems++) {
      const next = new ScriptedModel([[assistantMessage('ok')]]);
      const session = new AgentSessionsSession({ store, agentId: 'edge', sessionId: 'e', window: { maxItems } });
      await run(agent.clone({ model: next }), 'Go on', { session });
      const seen = requestInputs(next)[0]!;
      expect(inputProblems(seen), `maxItems ${maxItems}`).toEqual([]);
      if (maxItems === 2) expect(types(seen)).toEqual(['message', 'message']);
      // Put the session back as it was for the next width.
      await session.popItem();
      await session.popItem();
    }
  });

  it('drops the reasoning item that belonged to a call the window left out', async () => {
    const store = new MemoryStore();
    const session = new AgentSessionsSession({ store, agentId: 'r', sessionId: 'r', window: { maxToolCallsFromHistory: 1 } });
    await session.addItems([
      user('two lookups'),
      { type: 'reasoning', content: [{ type: 'input_text', text: 'first Paris' }] },
      functionCall('weather', { city: 'Paris' }, { callId: 'p' }) as AgentInputItem,
      { type: 'function_call_result', name: 'weather', callId: 'p', status: 'completed', output: 'sunny' },
      { type: 'reasoning', content: [{ type: 'input_text', text: 'then Rome' }] },
      functionCall('weather', { city: 'Rome' }, { callId: 'r' }) as AgentInputItem,
      { type: 'function_call_result', name: 'weather', callId: 'r', status: 'completed', output: 'hot' },
      reply('Paris sunny, Rome hot'),
    ]);
    const model = new ScriptedModel([[assistantMessage('ok')]]);
    await run(new Agent({ name: 'r', model, tools: [weather] }), 'thanks', { session });
    const seen = requestInputs(model)[0]!;
    expect(types(seen)).toEqual(['message', 'reasoning', 'function_call', 'function_call_result', 'message', 'message']);
    expect(JSON.stringify(seen)).not.toContain('first Paris');
    expect(inputProblems(seen)).toEqual([]);
  });

  it('resumes an approval in a new process without storing the function call twice', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([
      [functionCall('wipe', { path: '/tmp/x' }, { callId: 'w1' })],
      [assistantMessage('Wiped.')],
      [assistantMessage('Anything else?')],
    ]);
    const agent = new Agent({ name: 'ops', model, tools: [wipe] });
    const first = await run(agent, 'Wipe /tmp/x', { session: new AgentSessionsSession({ store, agentId: 'ops', sessionId: 'o' }) });
    expect(first.interruptions).toHaveLength(1);
    const saved = first.state.toString();

    const state = await RunState.fromString(agent, saved);
    state.approve(state.getInterruptions()[0]!);
    const session = new AgentSessionsSession({ store, agentId: 'ops', sessionId: 'o' });
    const resumed = await run(agent, state, { session });
    expect(resumed.finalOutput).toBe('Wiped.');
    const all = await session.getItems(100);
    expect(types(all).filter((t) => t === 'function_call')).toHaveLength(1);
    await run(agent, 'Thanks', { session });
    const seen = requestInputs(model)[2]!;
    expect(types(seen).filter((t) => t === 'function_call')).toHaveLength(1);
    expect(inputProblems(seen)).toEqual([]);
  });
});
