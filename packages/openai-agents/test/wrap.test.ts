import { createRequire } from 'node:module';
import { MemoryStore, NotImplementedError, withSessionStorage as coreWithSessionStorage } from '@agent-sessions/core';
import { registeredAdapters } from '@agent-sessions/core/adapter';
import { SessionAgent, isOpenAIAgent, withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, RunState, tool, type AgentInputItem } from '@openai/agents';
import {
  ScriptedModel,
  assistantMessage,
  functionCall,
  modelError,
  modelResponder,
  type RecordedModelCall,
} from '@openai/agents/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { expectToolTurnResent, inputProblems, requestInputs, texts, types, weather, weatherModel, wipe } from './helpers.js';

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) void _;
}

describe('withSessionStorage(agent): sessions', () => {
  it('starts a new session with an unguessable id when none is named, and hands it back', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('one')], [assistantMessage('two')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'greeter', model }), { store });
    const a = await wrapped.run('hi');
    const b = await wrapped.run('hi');
    expect(a.sessionId).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
    expect(b.sessionId).not.toBe(a.sessionId);
    expect(a.finalOutput).toBe('one');
    const [run] = await store.listRuns({ agentId: 'greeter', sessionId: a.sessionId, limit: 5 });
    expect(run?.runId).toBe(a.runId);
    expect(texts(run!.items as AgentInputItem[])).toEqual(['user: hi', 'assistant: one']);
  });

  it('remembers earlier turns across wrapper instances over one store (as after a restart)', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('Hello Ada')], [assistantMessage('You are Ada')]]);
    const agent = new Agent({ name: 'memo', instructions: 'Be brief.', model });
    const first = await withSessionStorage(agent, { store }).run('I am Ada', { userId: 'ada' });
    const restarted = withSessionStorage(agent, { store });
    const second = await restarted.run('Who am I?', { sessionId: first.sessionId, userId: 'ada' });
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.finalOutput).toBe('You are Ada');
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: I am Ada', 'assistant: Hello Ada', 'user: Who am I?']);
    // Another user cannot continue Ada's session.
    await expect(restarted.run('Who am I?', { sessionId: first.sessionId, userId: 'eve' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('uses agent.name as the agent id unless told otherwise, and leaves the agent untouched', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('a')], [assistantMessage('b')]]);
    const agent = new Agent({ name: 'named', model, tools: [weather] });
    const before = { ...agent, tools: [...agent.tools], handoffs: [...agent.handoffs] };
    const r1 = await withSessionStorage(agent, { store }).run('x');
    const r2 = await withSessionStorage(agent, { store, agentId: 'other' }).run('y');
    expect(await store.getSession({ agentId: 'named', sessionId: r1.sessionId })).not.toBeNull();
    expect(await store.getSession({ agentId: 'other', sessionId: r2.sessionId })).not.toBeNull();
    expect({ ...agent, tools: [...agent.tools], handoffs: [...agent.handoffs] }).toEqual(before);
  });

  it('stores a tool-using turn as one run with its call, result and usage', async () => {
    const store = new MemoryStore();
    const model = weatherModel('Paris', 'c1', 'Sunny in Paris.', 'Still sunny.');
    const wrapped = withSessionStorage(new Agent({ name: 'tools', model, tools: [weather] }), { store });
    const r = await wrapped.run('Weather in Paris?');
    const runs = await store.listRuns({ agentId: 'tools', sessionId: r.sessionId, limit: 5 });
    expect(runs).toHaveLength(1);
    expect(types(runs[0]!.items)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(runs[0]!.usage).toMatchObject({ requests: 2 });
    await wrapped.run('And now?', { sessionId: r.sessionId });
    expectToolTurnResent(model);
  });

  it('never hands the model an orphan result or dangling call, whatever the window', async () => {
    const store = new MemoryStore();
    const model = weatherModel('Oslo', 'o1', 'Cold.');
    const agent = new Agent({ name: 'edge', model, tools: [weather] });
    const { sessionId } = await withSessionStorage(agent, { store }).run('Weather in Oslo?');
    for (let maxItems = 0; maxItems <= 5; maxItems++) {
      const next = new ScriptedModel([[assistantMessage('ok')]]);
      const wrapped = withSessionStorage(agent.clone({ model: next }), { store, agentId: 'edge', window: { maxItems } });
      await wrapped.run('Go on', { sessionId });
      const seen = requestInputs(next)[0]!;
      expect(inputProblems(seen), `maxItems ${maxItems}`).toEqual([]);
      // maxItems 2 cuts between the call and its result: only the final answer survives.
      if (maxItems === 2) expect(texts(seen)).toEqual(['assistant: Cold.', 'user: Go on']);
      // Drop the probe turn so every width sees the same stored history.
      await store.popItem({ agentId: 'edge', sessionId });
      await store.popItem({ agentId: 'edge', sessionId });
    }
  });
});

describe('withSessionStorage(agent): windows over reasoning and tool calls', () => {
  it('hands the model a well-formed history for every item and token budget', async () => {
    const store = new MemoryStore();
    const think = (text: string) => ({ type: 'reasoning' as const, content: [{ type: 'input_text' as const, text }] });
    const model = new ScriptedModel([
      [think('need Paris'), functionCall('weather', { city: 'Paris' }, { callId: 'p1' })],
      [think('need Rome too'), functionCall('weather', { city: 'Rome' }, { callId: 'r1' })],
      [think('summarise'), assistantMessage('Paris sunny, Rome sunny.')],
      [functionCall('weather', { city: 'Oslo' }, { callId: 'o1' })],
      [assistantMessage('Oslo sunny.')],
    ]);
    const agent = new Agent({ name: 'wx', model, tools: [weather] });
    const { sessionId } = await withSessionStorage(agent, { store }).run('Paris and Rome?');
    await withSessionStorage(agent, { store }).run('And Oslo?', { sessionId });
    const [firstRun] = await store.listRuns({ agentId: 'wx', sessionId, limit: 2 });
    expect(types(firstRun!.items)).toEqual([
      'message',
      'reasoning',
      'function_call',
      'function_call_result',
      'reasoning',
      'function_call',
      'function_call_result',
      'reasoning',
      'message',
    ]);

    const windows = [
      ...Array.from({ length: 15 }, (_, maxItems) => ({ maxItems })),
      ...[0, 20, 40, 60, 80, 100, 150, 200, 400].map((maxTokens) => ({ maxTokens })),
      ...[0, 1, 2].map((maxToolCallsFromHistory) => ({ maxToolCallsFromHistory })),
    ];
    for (const window of windows) {
      const probe = new ScriptedModel([[assistantMessage('ok')]]);
      const wrapped = withSessionStorage(agent.clone({ model: probe }), { store, agentId: 'wx', window });
      await wrapped.run('next', { sessionId, metadata: { probe: true } });
      const seen = requestInputs(probe)[0]!;
      expect(inputProblems(seen), JSON.stringify(window)).toEqual([]);
      expect(texts(seen).at(-1)).toBe('user: next');
      await store.popItem({ agentId: 'wx', sessionId });
      await store.popItem({ agentId: 'wx', sessionId });
    }
  });
});

describe('withSessionStorage(agent): streaming', () => {
  it('saves a streamed run when the stream completes', async () => {
    const store = new MemoryStore();
    const model = weatherModel('Rome', 'r1', 'Hot in Rome.', 'Yes, hot.');
    const wrapped = withSessionStorage(new Agent({ name: 'streamer', model, tools: [weather] }), { store });
    const stream = await wrapped.run('Weather in Rome?', { stream: true });
    expect(stream.sessionId).toMatch(/^sess_/);
    // Nothing is stored while the stream is still open.
    expect(await store.listRuns({ agentId: 'streamer', sessionId: stream.sessionId, limit: 5 })).toEqual([]);
    const text: string[] = [];
    for await (const event of stream) {
      if (event.type === 'raw_model_stream_event' && event.data.type === 'output_text_delta') text.push(event.data.delta);
    }
    await stream.completed;
    expect(stream.finalOutput).toBe('Hot in Rome.');
    expect(text.join('')).toBe('Hot in Rome.');
    const runs = await store.listRuns({ agentId: 'streamer', sessionId: stream.sessionId, limit: 5 });
    expect(runs.map((r) => [r.runId, r.status])).toEqual([[stream.runId, 'completed']]);
    expect(types(runs[0]!.items)).toEqual(['message', 'function_call', 'function_call_result', 'message']);

    const again = await wrapped.run('Really?', { sessionId: stream.sessionId, stream: true });
    await drain(again);
    await again.completed;
    expect(texts(requestInputs(model)[2]!)).toEqual(['user: Weather in Rome?', 'assistant: Hot in Rome.', 'user: Really?']);
  });
});

describe('withSessionStorage(agent): failures', () => {
  it('records a run whose model throws as failed, with its input, and keeps it out of the window', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('fine')], modelError(new Error('model down')), [assistantMessage('back')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'flaky', model }), { store });
    const { sessionId } = await wrapped.run('first');
    await expect(wrapped.run('second', { sessionId, metadata: { requestId: 'q2' } })).rejects.toThrow('model down');
    const runs = await store.listRuns({ agentId: 'flaky', sessionId, limit: 5 });
    expect(runs.map((r) => r.status)).toEqual(['completed', 'failed']);
    expect(texts(runs[1]!.items as AgentInputItem[])).toEqual(['user: second']);
    expect(runs[1]!.metadata).toMatchObject({ requestId: 'q2', error: { message: 'model down' } });
    await wrapped.run('third', { sessionId });
    expect(texts(requestInputs(model)[2]!)).toEqual(['user: first', 'assistant: fine', 'user: third']);
  });

  it('records a streamed run that fails as failed and rejects `completed`', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([modelError(new Error('stream broke'))]);
    const wrapped = withSessionStorage(new Agent({ name: 'flaky-stream', model }), { store });
    const stream = await wrapped.run('hello', { stream: true });
    await expect(drain(stream)).rejects.toThrow('stream broke');
    await expect(stream.completed).rejects.toThrow('stream broke');
    const runs = await store.listRuns({ agentId: 'flaky-stream', sessionId: stream.sessionId, limit: 5 });
    expect(runs.map((r) => r.status)).toEqual(['failed']);
    expect(texts(runs[0]!.items as AgentInputItem[])).toEqual(['user: hello']);
  });

  it('records a run that fails after a tool call with its input first', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([
      [functionCall('weather', { city: 'Lima' }, { callId: 'l1' })],
      modelError(new Error('second call failed')),
    ]);
    const wrapped = withSessionStorage(new Agent({ name: 'half', model, tools: [weather] }), { store });
    await expect(wrapped.run('Weather in Lima?', { sessionId: 'h' })).rejects.toThrow('second call failed');
    const [run] = await store.listRuns({ agentId: 'half', sessionId: 'h', limit: 5 });
    expect(run?.status).toBe('failed');
    expect(texts(run!.items.slice(0, 1) as AgentInputItem[])).toEqual(['user: Weather in Lima?']);
  });
});

describe('withSessionStorage(agent): approvals', () => {
  function approvalModel() {
    return new ScriptedModel([
      [functionCall('wipe', { path: '/tmp/x' }, { callId: 'w1' })],
      [assistantMessage('Wiped /tmp/x.')],
      [assistantMessage('Anything else?')],
    ]);
  }

  it('stores the interrupted run with its RunState and resumes it in another process, once', async () => {
    const store = new MemoryStore();
    const model = approvalModel();
    const agent = new Agent({ name: 'ops', model, tools: [wipe] });
    const first = await withSessionStorage(agent, { store }).run('Wipe /tmp/x', { sessionId: 'ops-1' });
    expect(first.interruptions).toHaveLength(1);
    const [interrupted] = await store.listRuns({ agentId: 'ops', sessionId: 'ops-1', limit: 5 });
    expect(interrupted?.status).toBe('interrupted');
    expect(typeof interrupted?.metadata?.runState).toBe('string');
    expect(types(interrupted!.items)).toEqual(['message', 'function_call']);

    // A new process: a fresh wrapper finds the pending approval in the store.
    const later = withSessionStorage(agent, { store });
    const pending = await later.getInterruption({ sessionId: 'ops-1' });
    expect(pending?.runId).toBe(first.runId);
    expect(pending!.interruptions.map((i) => i.name)).toEqual(['wipe']);
    pending!.state.approve(pending!.interruptions[0]!);
    const resumed = await later.run(pending!.state, { sessionId: 'ops-1' });
    expect(resumed.finalOutput).toBe('Wiped /tmp/x.');
    expect(await later.getInterruption({ sessionId: 'ops-1' })).toBeNull();

    const runs = await store.listRuns({ agentId: 'ops', sessionId: 'ops-1', limit: 5 });
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
    expect(types(runs[1]!.items)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(runs[1]!.metadata).toMatchObject({ resumedFrom: first.runId });

    await later.run('Thanks', { sessionId: 'ops-1' });
    const seen = requestInputs(model)[2]!;
    expect(types(seen).filter((t) => t === 'function_call')).toHaveLength(1);
    expect(texts(seen)).toEqual(['user: Wipe /tmp/x', 'assistant: Wiped /tmp/x.', 'user: Thanks']);
    expect(inputProblems(seen)).toEqual([]);
  });

  it('resumes a RunState from this process without naming the session, streamed', async () => {
    const store = new MemoryStore();
    const agent = new Agent({ name: 'ops', model: approvalModel(), tools: [wipe] });
    const wrapped = withSessionStorage(agent, { store });
    const first = await wrapped.run('Wipe /tmp/x');
    first.state.approve(first.interruptions[0]!);
    const resumed = await wrapped.run(first.state, { stream: true });
    await drain(resumed);
    await resumed.completed;
    expect(resumed.sessionId).toBe(first.sessionId);
    const runs = await store.listRuns({ agentId: 'ops', sessionId: first.sessionId, limit: 5 });
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
    expect(types(runs[1]!.items)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
  });

  it('resumes a RunState the caller serialised itself, matched by its pending call ids', async () => {
    const store = new MemoryStore();
    const agent = new Agent({ name: 'ops', model: approvalModel(), tools: [wipe] });
    const first = await withSessionStorage(agent, { store }).run('Wipe /tmp/x', { sessionId: 's' });
    const state = await RunState.fromString(agent, first.state.toString());
    state.reject(state.getInterruptions()[0]!);
    const wrapped = withSessionStorage(agent, { store });
    await expect(wrapped.run(state)).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(wrapped.run(state, { sessionId: 'elsewhere' })).rejects.toMatchObject({ code: 'not_found' });
    const resumed = await wrapped.run(state, { sessionId: 's' });
    const runs = await store.listRuns({ agentId: 'ops', sessionId: 's', limit: 5 });
    expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
    expect(runs[1]!.runId).toBe(resumed.runId);
    const result = runs[1]!.items.find((i) => (i as { type?: string }).type === 'function_call_result');
    expect(JSON.stringify(result)).not.toContain('deleted /tmp/x');
  });
});

describe('withSessionStorage(agent): approvals, more', () => {
  it('stores a streamed run that stops for approval as interrupted', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([
      [functionCall('wipe', { path: '/a' }, { callId: 'sw' })],
      [assistantMessage('Wiped /a.')],
    ]);
    const wrapped = withSessionStorage(new Agent({ name: 'ops', model, tools: [wipe] }), { store });
    const stream = await wrapped.run('Wipe /a', { stream: true });
    await drain(stream);
    await stream.completed;
    expect(stream.interruptions).toHaveLength(1);
    const [run] = await store.listRuns({ agentId: 'ops', sessionId: stream.sessionId, limit: 5 });
    expect(run?.status).toBe('interrupted');
    expect(run?.metadata?.pendingCallIds).toEqual(['sw']);
    const pending = await withSessionStorage(new Agent({ name: 'ops', model, tools: [wipe] }), { store }).getInterruption({
      sessionId: stream.sessionId,
    });
    expect(pending?.runId).toBe(stream.runId);
  });

  it('keeps an approval pending after a failed attempt to resume it', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([
      [functionCall('wipe', { path: '/b' }, { callId: 'fb' })],
      modelError(new Error('down while resuming')),
      [assistantMessage('Wiped /b.')],
    ]);
    const agent = new Agent({ name: 'ops', model, tools: [wipe] });
    const wrapped = withSessionStorage(agent, { store });
    const first = await wrapped.run('Wipe /b', { sessionId: 'retry' });
    const attempt = await wrapped.getInterruption({ sessionId: 'retry' });
    attempt!.state.approve(attempt!.interruptions[0]!);
    await expect(wrapped.run(attempt!.state, { sessionId: 'retry' })).rejects.toThrow('down while resuming');

    const again = await withSessionStorage(agent, { store }).getInterruption({ sessionId: 'retry' });
    expect(again?.runId).toBe(first.runId);
    again!.state.approve(again!.interruptions[0]!);
    const done = await wrapped.run(again!.state, { sessionId: 'retry' });
    expect(done.finalOutput).toBe('Wiped /b.');
    const runs = await store.listRuns({ agentId: 'ops', sessionId: 'retry', limit: 5 });
    expect(runs.map((r) => [r.status, r.metadata?.resumedFrom ?? null])).toEqual([
      ['interrupted', null],
      ['failed', first.runId],
      ['completed', first.runId],
    ]);
    expect(await wrapped.getInterruption({ sessionId: 'retry' })).toBeNull();
  });
});

describe('withSessionStorage(agent): options', () => {
  it('passes SDK run options through: sessionInputCallback shapes what the model sees', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('one')], [assistantMessage('two')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'cb', model }), { store });
    const { sessionId } = await wrapped.run('first question');
    await wrapped.run('second question', {
      sessionId,
      // Keep only the last history item.
      sessionInputCallback: (history, fresh) => [...history.slice(-1), ...fresh],
    });
    expect(texts(requestInputs(model)[1]!)).toEqual(['assistant: one', 'user: second question']);
    const runs = await store.listRuns({ agentId: 'cb', sessionId, limit: 5 });
    expect(texts(runs[1]!.items as AgentInputItem[])).toEqual(['user: second question', 'assistant: two']);
  });

  it('applies ttl, session metadata and run metadata', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ clock: () => now });
    const model = new ScriptedModel([[assistantMessage('hi')], [assistantMessage('again')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'ttl', model }), {
      store,
      ttl: '1m',
      sessionMetadata: { channel: 'web' },
    });
    const r = await wrapped.run('hello', { metadata: { traceId: 't-1' } });
    const header = await store.getSession({ agentId: 'ttl', sessionId: r.sessionId });
    expect(header).toMatchObject({ metadata: { channel: 'web' }, ttlMs: 60_000, expiresAt: now + 60_000 });
    const [run] = await store.listRuns({ agentId: 'ttl', sessionId: r.sessionId, limit: 1 });
    expect(run?.metadata).toEqual({ traceId: 't-1' });
    now += 61_000;
    // Expired: the next turn starts fresh, with no history.
    await wrapped.run('still there?', { sessionId: r.sessionId });
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: still there?']);
  });

  it('rejects a missing store and a bad window up front', () => {
    const agent = new Agent({ name: 'bad' });
    expect(() => withSessionStorage(agent, {} as never)).toThrow(/Missing option "store"/);
    expect(() => withSessionStorage(agent, { store: new MemoryStore(), window: { lastRuns: -1 } })).toThrow(
      /lastRuns/,
    );
  });
});

describe('withSessionStorage(agent): concurrency', () => {
  it('serves two sessions at once on one agent without mixing their histories', async () => {
    const store = new MemoryStore();
    const lastUser = (call: RecordedModelCall): string => {
      const items = typeof call.request.input === 'string' ? [] : call.request.input;
      const said = texts(items).filter((t) => t.startsWith('user: '));
      return `${said.length}:${said.at(-1)?.slice(6) ?? ''}`;
    };
    const model = new ScriptedModel(
      Array.from({ length: 8 }, () => modelResponder((call) => [assistantMessage(`echo ${lastUser(call)}`)])),
    );
    const wrapped = withSessionStorage(new Agent({ name: 'echo', model }), { store });
    const talk = async (who: string) => {
      let sessionId: string | undefined;
      for (let turn = 1; turn <= 4; turn++) {
        const r = await wrapped.run(`${who}${turn}`, { sessionId });
        sessionId = r.sessionId;
        expect(r.finalOutput).toBe(`echo ${turn}:${who}${turn}`);
      }
      return sessionId!;
    };
    const [a, b] = await Promise.all([talk('a'), talk('b')]);
    const histA = texts((await store.listRuns({ agentId: 'echo', sessionId: a, limit: 10 })).flatMap((r) => r.items) as AgentInputItem[]);
    const histB = texts((await store.listRuns({ agentId: 'echo', sessionId: b, limit: 10 })).flatMap((r) => r.items) as AgentInputItem[]);
    expect(histA.filter((t) => t.startsWith('user'))).toEqual(['user: a1', 'user: a2', 'user: a3', 'user: a4']);
    expect(histB.filter((t) => t.startsWith('user'))).toEqual(['user: b1', 'user: b2', 'user: b3', 'user: b4']);
    model.assertComplete();
  });
});

describe('registration with core', () => {
  it('lets core withSessionStorage wrap an OpenAI Agents agent, typed by the agent', async () => {
    expect(registeredAdapters()).toContain('openai-agents');
    const store = new MemoryStore();
    const agent = new Agent({ name: 'core-entry', model: new ScriptedModel([[assistantMessage('via core')]]) });
    const wrapped = coreWithSessionStorage(agent, { store });
    expectTypeOf(wrapped).toEqualTypeOf<SessionAgent<typeof agent>>();
    expect(wrapped).toBeInstanceOf(SessionAgent);
    const r = await wrapped.run('hi');
    expect(r.finalOutput).toBe('via core');
  });

  it('recognises an Agent from a second copy of the SDK, and nothing else', () => {
    const require = createRequire(import.meta.url);
    const cjs = require('@openai/agents') as typeof import('@openai/agents');
    const other = new cjs.Agent({ name: 'from-cjs' });
    expect(other instanceof Agent).toBe(false);
    expect(isOpenAIAgent(other)).toBe(true);
    expect(isOpenAIAgent(new Agent({ name: 'esm' }))).toBe(true);

    const lookalikes: unknown[] = [
      null,
      'agent',
      { name: 'plain', tools: [], handoffs: [] },
      // A LangChain runnable's shape.
      { lc_namespace: ['langchain'], lc_serializable: true, invoke: async () => 'x', name: 'r', tools: [], handoffs: [] },
      new (class Runnable {
        name = 'graph';
        tools = [];
        handoffs = [];
        invoke() {}
        getSystemPrompt() {}
        getAllTools() {}
        getEnabledHandoffs() {}
        processFinalOutput() {}
        asTool() {}
        clone() {}
      })(),
    ];
    for (const value of lookalikes) expect(isOpenAIAgent(value)).toBe(false);
    expect(() => coreWithSessionStorage({ name: 'plain' } as never, { store: new MemoryStore() } as never)).toThrow(
      NotImplementedError,
    );
  });
});
