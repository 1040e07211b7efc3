// Issue 15 item 9 for LangChain: type-level checks (compiled by `pnpm run typecheck`: each
// `@ts-expect-error` fails the build if its error disappears) and their run-time counterparts.
import { MemoryStore, isAgentSessionsError, withSessionStorage as coreWithSessionStorage } from '@agent-sessions/core';
import { sessionStorageMiddleware, withSessionStorage } from '@agent-sessions/langchain';
import { AIMessage, AIMessageChunk, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { MessagesAnnotation, StateGraph } from '@langchain/langgraph';
import { createAgent } from 'langchain';
import { describe, expect, expectTypeOf, it } from 'vitest';

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('LangChain adapter types', () => {
  it("sessionId is a string on every state result: through core's withSessionStorage, the package's, a graph and the middleware", async () => {
    const store = new MemoryStore();
    const agent = coreWithSessionStorage(createAgent({ model: fakeModel().respond(new AIMessage('a')), tools: [] }), { store });
    const viaAgent = await agent.invoke({ messages: [new HumanMessage('hi')] }, { configurable: { sessionId: 't-agent' } });
    expectTypeOf(viaAgent.sessionId).toEqualTypeOf<string>();

    const model = fakeModel().respond(new AIMessage('g'));
    const graph = new StateGraph(MessagesAnnotation)
      .addNode('model', async (state) => ({ messages: [await model.invoke(state.messages)] }))
      .addEdge('__start__', 'model')
      .compile();
    const viaCore = await coreWithSessionStorage(graph, { store }).invoke({ messages: [new HumanMessage('hi')] }, { configurable: { sessionId: 't-graph' } });
    expectTypeOf(viaCore.sessionId).toEqualTypeOf<string>();
    expectTypeOf(viaCore.messages).toEqualTypeOf<BaseMessage[]>();
    expect(viaCore.sessionId).toBe('t-graph');
    model.respond(new AIMessage('g'));
    const viaPackage = await withSessionStorage(graph, { store }).invoke({ messages: [new HumanMessage('hi')] }, { configurable: { sessionId: 't-graph' } });
    expectTypeOf(viaPackage).toEqualTypeOf(viaCore);
    expect(viaPackage.sessionId).toBe('t-graph');

    const withMiddleware = createAgent({ model: fakeModel().respond(new AIMessage('m')), tools: [], middleware: [sessionStorageMiddleware({ store })] });
    const viaMiddleware = await withMiddleware.invoke({ messages: [new HumanMessage('hi')] });
    expectTypeOf(viaMiddleware.sessionId).toEqualTypeOf<string>();
    expect(viaMiddleware.sessionId).toMatch(/^sess_/);

    const chat = coreWithSessionStorage(fakeModel().respond(new AIMessage('c')), { store });
    const message = await chat.invoke('hi', { configurable: { sessionId: 't-chat' } });
    expectTypeOf(message).toEqualTypeOf<AIMessageChunk>();
    expect(message.response_metadata.sessionId).toBe('t-chat');
  });

  it('a misspelt configurable key does not compile, and at run time fails invalid_input before the model runs', async () => {
    const store = new MemoryStore();
    const model = fakeModel().respond(new AIMessage('one'));
    const chat = withSessionStorage(model, { store });
    await chat.invoke('first', { configurable: { sessionId: 'typo-1', userId: 'ada', other: 1 } });

    // @ts-expect-error: Type '"typo-1"' is not assignable to "agent-sessions: configurable.sesionId is not read; did you mean 'sessionId'?"
    const typo = errorOf(chat.invoke('second', { configurable: { sesionId: 'typo-1' } }));
    const err = await typo;
    expect(isAgentSessionsError(err, 'invalid_input')).toBe(true);
    expect((err as Error).message).toContain("configurable.sesionId is not an option agent-sessions reads; did you mean 'sessionId'?");
    // @ts-expect-error: ... configurable.session_id ... did you mean 'sessionId'?
    await expect(chat.stream('second', { configurable: { session_id: 'typo-1' } })).rejects.toMatchObject({ code: 'invalid_input' });
    // @ts-expect-error: ... configurable.userid ... did you mean 'userId'?
    await expect(chat.invoke('second', { configurable: { sessionId: 'typo-1', userid: 'ada' } })).rejects.toMatchObject({ code: 'invalid_input' });
    // @ts-expect-error: ... configurable.threadId ... did you mean 'thread_id'?
    await expect(chat.invoke('second', { configurable: { threadId: 'typo-1' } })).rejects.toMatchObject({ code: 'invalid_input' });
    // A configurable built at run time is not checked by the compiler, only at run time.
    const built: Record<string, unknown> = { ['sessionID']: 'typo-1' };
    await expect(chat.invoke('second', { configurable: built })).rejects.toMatchObject({ code: 'invalid_input' });

    expect(model.calls).toHaveLength(1);
    const sessions = await store.listSessions({ agentId: 'default' });
    expect(sessions.sessions.map((s) => s.sessionId)).toEqual(['typo-1']);
  });

  it('the middleware refuses a misspelt configurable key; allowedConfigurableKeys lets an app key through', async () => {
    const store = new MemoryStore();
    const model = fakeModel().respond(new AIMessage('ok'));
    const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store })] });
    await expect(agent.invoke({ messages: [new HumanMessage('hi')] }, { configurable: { session_id: 'x' } })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    expect(model.calls).toHaveLength(0);

    const own = withSessionStorage(fakeModel().respond(new AIMessage('fine')), { store, allowedConfigurableKeys: ['user_id'] });
    const out = await own.invoke('hi', { configurable: { sessionId: 'own-key', user_id: 'app-level' } as Record<string, unknown> });
    expect(out.content).toBe('fine');
  });
});
