import { AgentSessionsError, MemoryStore, NotImplementedError, withSessionStorage } from '@agent-sessions/core';
import { registeredAdapters } from '@agent-sessions/core/adapter';
import { SessionRunnable } from '@agent-sessions/langchain';
import { SessionAgent } from '@agent-sessions/openai-agents';
import { AIMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { Agent, setTracingDisabled } from '@openai/agents';
import { ScriptedModel, assistantMessage } from '@openai/agents/testing';
import { Experimental_Agent as VercelAgent } from 'ai';
import { MockLanguageModelV2 } from 'ai/test';
import { describe, expect, expectTypeOf, it } from 'vitest';

setTracingDisabled(true);

// Both adapters registered in one process, as in an application that uses both frameworks:
// one entry point dispatches each agent to its own framework's adapter.
describe('withSessionStorage from core with every adapter registered', () => {
  it('has both adapters registered by their imports', () => {
    expect(registeredAdapters()).toEqual(expect.arrayContaining(['openai-agents', 'langchain']));
  });

  it('sends an OpenAI Agents agent to its adapter; a call without a session starts one and returns its id', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('Noted, Ada.')], [assistantMessage('You are Ada.')]]);
    const agent = new Agent({ name: 'support', model });
    const wrapped = withSessionStorage(agent, { store });
    expectTypeOf(wrapped).toEqualTypeOf<SessionAgent<typeof agent>>(); // the agent's own type survives core (issue 15, item 9)
    expect(wrapped).toBeInstanceOf(SessionAgent);
    const first = await wrapped.run('I am Ada.');
    expect(first.sessionId).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
    await wrapped.run('Who am I?', { sessionId: first.sessionId });
    const runs = await store.listRuns({ agentId: 'support', sessionId: first.sessionId, limit: 10 });
    expect(runs.map((r) => r.seq)).toEqual([1, 2]);
  });

  it('sends a LangChain chat model to its adapter; a call without a session starts one and returns its id', async () => {
    const store = new MemoryStore();
    const model = fakeModel().respond(new AIMessage('Hello.'));
    const wrapped = withSessionStorage(model, { store });
    expect(wrapped).toBeInstanceOf(SessionRunnable);
    const out = (await wrapped.invoke('Hi.')) as AIMessage;
    const sessionId = out.response_metadata.sessionId as string;
    expect(sessionId).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
  });

  it('two session ids generated for two calls are different', async () => {
    const store = new MemoryStore();
    const agent = new Agent({ name: 'a', model: new ScriptedModel([[assistantMessage('1')], [assistantMessage('2')]]) });
    const wrapped = withSessionStorage(agent, { store });
    const [a, b] = [await wrapped.run('x'), await wrapped.run('y')];
    expect(a.sessionId).not.toBe(b.sessionId);
  });
});

describe('withSessionStorage for what no adapter wraps', () => {
  const store = new MemoryStore();
  const vercel = new VercelAgent({
    model: new MockLanguageModelV2({
      doGenerate: async () => ({
        content: [{ type: 'text', text: 'hi' }],
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
        warnings: [],
      }),
    }),
  });
  const cases: [string, unknown, RegExp][] = [
    ['a Vercel AI SDK agent', vercel, /an object of class Agent/],
    ['a plain function', async function myAgent() {}, /a function \(myAgent\)/],
    ['a plain object with a run method', { run: async () => 'hi' }, /a plain object/],
    ['an object that only looks like a chain', { invoke: async () => 'hi', pipe: () => null }, /a plain object/],
    ['null', null, /cannot wrap null/],
    ['a string', 'support-agent', /a string/],
  ];

  it.each(cases)('%s throws NotImplementedError naming what it got and what is supported', (_what, agent, names) => {
    let err: unknown;
    try {
      withSessionStorage(agent as never, { store } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotImplementedError);
    expect(err).toBeInstanceOf(AgentSessionsError);
    expect((err as NotImplementedError).code).toBe('not_implemented');
    const message = (err as Error).message;
    expect(message).toMatch(names);
    expect(message).toContain('openai-agents (@agent-sessions/openai-agents)');
    expect(message).toContain('langchain (@agent-sessions/langchain)');
    expect(message).toContain('Registered now:');
  });

  it('the Vercel AI SDK agent is a real one: it runs on its own', async () => {
    const res = await vercel.generate({ prompt: 'hello' });
    expect(res.text).toBe('hi');
  });
});
