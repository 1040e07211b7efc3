import { NotImplementedError, withSessionStorage as coreWithSessionStorage } from '@agent-sessions/core';
import { registeredAdapters } from '@agent-sessions/core/adapter';
import { SessionRunnable, isLangChainAgent, isLangChainRunnable } from '@agent-sessions/langchain';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { RunnableLambda } from '@langchain/core/runnables';
import { fakeModel } from '@langchain/core/testing';
import { Annotation, MessagesAnnotation, StateGraph } from '@langchain/langgraph';
import { Agent } from '@openai/agents';
import { createAgent } from 'langchain';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { describeMessages, newStore } from './helpers.js';

describe("core's withSessionStorage with the LangChain adapter registered", () => {
  it('is registered by importing the package', () => {
    expect(registeredAdapters()).toContain('langchain');
  });

  it('wraps a chat model and a createAgent agent, with types that follow the input', async () => {
    const store = newStore();
    const model = fakeModel().respond(new AIMessage('One.')).respond(new AIMessage('Two.'));
    const chat = coreWithSessionStorage(model, { store });
    expect(chat).toBeInstanceOf(SessionRunnable);
    await chat.invoke('First.', { configurable: { sessionId: 'core-1' } });
    await chat.invoke('Second.', { configurable: { sessionId: 'core-1' } });
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:First.', 'ai:One.', 'human:Second.']);

    const agentModel = fakeModel().respond(new AIMessage('Agent says hi.'));
    const agent = coreWithSessionStorage(createAgent({ model: agentModel, tools: [] }), { store });
    const state = await agent.invoke({ messages: [new HumanMessage('Hi.')] }, { configurable: { sessionId: 'core-2' } });
    expectTypeOf(state.sessionId).toEqualTypeOf<string>();
    expect(state.sessionId).toBe('core-2');
  });

  it('wraps a compiled LangGraph graph over MessagesAnnotation', async () => {
    const model = fakeModel().respond(new AIMessage('Graph one.')).respond(new AIMessage('Graph two.'));
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('model', async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addEdge('__start__', 'model')
      .compile();
    const store = newStore();
    const wrapped = coreWithSessionStorage(graph, { store });
    await wrapped.invoke({ messages: [new HumanMessage('G1.')] }, { configurable: { sessionId: 'g' } });
    const out = (await wrapped.invoke({ messages: [new HumanMessage('G2.')] }, { configurable: { sessionId: 'g' } })) as {
      sessionId: string;
    };
    expect(out.sessionId).toBe('g');
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:G1.', 'ai:Graph one.', 'human:G2.']);
  });

  it('recognises LangChain runnables and agents, and nothing else', () => {
    expect(isLangChainRunnable(fakeModel())).toBe(true);
    expect(isLangChainRunnable(RunnableLambda.from((x: string) => x))).toBe(true);
    expect(isLangChainAgent(createAgent({ model: fakeModel(), tools: [] }))).toBe(true);
    expect(isLangChainRunnable(createAgent({ model: fakeModel(), tools: [] }))).toBe(false);
    const stateGraph = new StateGraph(Annotation.Root({ x: Annotation<number> }));
    expect(isLangChainRunnable(stateGraph)).toBe(false);

    const openaiAgent = new Agent({ name: 'Assistant', instructions: 'Be helpful.' });
    for (const other of [openaiAgent, {}, { invoke: () => 1, stream: () => 2 }, () => 1, null, 'agent', { lc_runnable: true }]) {
      expect(isLangChainRunnable(other)).toBe(false);
      expect(isLangChainAgent(other)).toBe(false);
    }
  });

  it('does not take an OpenAI Agents agent or a plain object for a LangChain one', () => {
    const store = newStore();
    const otherAdapters = registeredAdapters().filter((name) => name !== 'langchain');
    // With only the LangChain adapter registered these fail; another adapter may claim the OpenAI agent.
    if (otherAdapters.length === 0) {
      expect(() => coreWithSessionStorage(new Agent({ name: 'A', instructions: 'x' }) as never, { store } as never)).toThrow(
        NotImplementedError,
      );
    }
    expect(() => coreWithSessionStorage({ invoke: async () => 'x' } as never, { store } as never)).toThrow(NotImplementedError);
    expect(() => coreWithSessionStorage((() => 'x') as never, { store } as never)).toThrow(NotImplementedError);
  });
});
