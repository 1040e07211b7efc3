import { randomUUID } from 'node:crypto';
import { AlreadyResumedError, TurnNotStoredError, isAgentSessionsError } from '@agent-sessions/core';
import { SessionChatMessageHistory, withSessionStorage } from '@agent-sessions/langchain';
import { HumanMessage, SystemMessage, type BaseMessage } from '@langchain/core/messages';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, humanInTheLoopMiddleware, tool } from 'langchain';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { answering, describeItems, describeMessages, runsOf, weatherModel } from './helpers.js';
import { STORES } from '../../../test/support/stores.js';

const sid = (label: string) => `${label}-${randomUUID()}`;
const cfg = (sessionId: string, userId?: string) => ({ configurable: { sessionId, userId } });

describe.each(STORES)('LangChain adapter on $name', ({ open }) => {
  it('item 2: the stored summary reaches the model through window.prefix, with no extra read per turn', async () => {
    const store = await open();
    const model = answering('Hello Ada', 'Tea.');
    const chat = withSessionStorage(model, {
      store,
      window: { prefix: (s) => (s?.summary ? [{ type: 'system', data: { content: `Summary: ${s.summary}`, additional_kwargs: {}, response_metadata: {} } } as never] : []) },
    });
    const sessionId = sid('summary');
    await chat.invoke('I am Ada', cfg(sessionId));
    const header = await store.getSession({ agentId: 'default', sessionId });
    await store.updateSession({ agentId: 'default', sessionId, expectedVersion: header!.version, summary: 'Ada likes tea.' });
    const reads = [vi.spyOn(store, 'readHistory'), vi.spyOn(store, 'listRuns'), vi.spyOn(store, 'getSession')];
    await chat.invoke('What do I like?', cfg(sessionId));
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['system:Summary: Ada likes tea.', 'human:I am Ada', 'ai:Hello Ada', 'human:What do I like?']);
    expect(reads.map((r) => r.mock.calls.length)).toEqual([1, 0, 0]);
  });

  describe('items 3 and 5: interrupts', () => {
    function hitl(store: Awaited<ReturnType<typeof open>>, checkpointer = new MemorySaver()) {
      const executed: string[] = [];
      const weather = tool(
        async ({ city }: { city: string }) => {
          executed.push(city);
          return `It is sunny in ${city}.`;
        },
        { name: 'get_weather', description: 'The weather in a city', schema: z.object({ city: z.string() }) },
      );
      const model = weatherModel('Bern', 'Sunny in Bern.', 'again?!');
      const agent = withSessionStorage(
        createAgent({ model, tools: [weather], checkpointer, middleware: [humanInTheLoopMiddleware({ interruptOn: { get_weather: true } })] }),
        { store },
      );
      return { agent, executed, model, checkpointer };
    }
    const approve = () => new Command({ resume: { decisions: [{ type: 'approve' }] } }) as never;

    it('item 3: resuming the same interrupt twice runs the tool once, stores the turn once, the second gets a typed conflict', async () => {
      const store = await open();
      const { agent, executed } = hitl(store);
      const sessionId = sid('hitl-twice');
      await agent.invoke({ messages: [new HumanMessage('Weather in Bern?')] }, cfg(sessionId));
      const done = await agent.invoke(approve(), cfg(sessionId));
      expect(done.messages.at(-1)!.content).toBe('Sunny in Bern.');
      const err = await agent.invoke(approve(), cfg(sessionId)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AlreadyResumedError);
      expect(isAgentSessionsError(err, 'conflict')).toBe(true);
      expect(executed).toEqual(['Bern']);
      expect((await runsOf(store, sessionId)).map((r) => r.status)).toEqual(['interrupted', 'completed']);
    });

    it('item 3: two resumes at once: one runs, the other fails with conflict before any tool runs', async () => {
      const store = await open();
      const { agent, executed } = hitl(store);
      const sessionId = sid('hitl-race');
      await agent.invoke({ messages: [new HumanMessage('Weather in Bern?')] }, cfg(sessionId));
      const outcomes = await Promise.allSettled([agent.invoke(approve(), cfg(sessionId)), agent.invoke(approve(), cfg(sessionId))]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(isAgentSessionsError((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason, 'conflict')).toBe(true);
      expect(executed).toEqual(['Bern']);
      expect((await runsOf(store, sessionId)).map((r) => r.status)).toEqual(['interrupted', 'completed']);
    });

    it('item 5: resuming in another process whose in-memory checkpointer lost the thread fails loudly, runs nothing', async () => {
      const store = await open();
      const sessionId = sid('hitl-lost');
      await hitl(store).agent.invoke({ messages: [new HumanMessage('Weather in Bern?')] }, cfg(sessionId));
      const other = hitl(store); // a new process: a new, empty MemorySaver
      const err = await other.agent.invoke(approve(), cfg(sessionId)).catch((e: unknown) => e);
      expect(isAgentSessionsError(err, 'not_found')).toBe(true);
      expect((err as Error).message).toMatch(/durable checkpointer/);
      expect(other.model.calls).toHaveLength(0);
      expect(other.executed).toEqual([]);
      expect((await runsOf(store, sessionId)).map((r) => r.status)).toEqual(['interrupted']);
    });
  });

  it('item 6: system messages are instructions: sent with their turn, never stored, never replayed', async () => {
    const store = await open();
    const model = answering('one', 'two');
    const chat = withSessionStorage(model, { store });
    const sessionId = sid('system');
    await chat.invoke([new SystemMessage('Be brief.'), new HumanMessage('Hi')], cfg(sessionId));
    await chat.invoke([new SystemMessage('Be brief.'), new HumanMessage('Again')], cfg(sessionId));
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['system:Be brief.', 'human:Hi', 'ai:one', 'human:Again']);
    expect((await runsOf(store, sessionId)).flatMap(describeItems)).toEqual(['human:Hi', 'ai:one', 'human:Again', 'ai:two']);
  });

  it("item 7: staleHistory 'reject' refuses a turn another turn overtook (conflict, answer kept); the default interleaves", async () => {
    const store = await open();
    const sessionId = sid('stale');
    const slow = answering('slow answer');
    let release!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const modelCalled = new Promise<void>((r) => (entered = r));
    const originalInvoke = slow.invoke.bind(slow);
    vi.spyOn(slow, 'invoke').mockImplementation(async (...args: Parameters<typeof slow.invoke>) => {
      entered(); // the slow turn has read its history: now another turn lands first
      await gate;
      return originalInvoke(...args);
    });
    const strict = withSessionStorage(slow, { store, staleHistory: 'reject' });
    const fast = withSessionStorage(answering('fast answer'), { store });
    const pending = strict.invoke('slow question', cfg(sessionId)).catch((e: unknown) => e);
    await modelCalled;
    await fast.invoke('fast question', cfg(sessionId));
    release();
    const err = await pending;
    expect(isAgentSessionsError(err, 'conflict')).toBe(true);
    expect(err).toBeInstanceOf(TurnNotStoredError);
    expect(((err as TurnNotStoredError).result as BaseMessage).content).toBe('slow answer');
    expect((await runsOf(store, sessionId)).flatMap(describeItems)).toEqual(['human:fast question', 'ai:fast answer']);
  });

  it('item 8: a save that fails after the model answered keeps the answer and the run to retry with', async () => {
    const store = await open();
    const model = answering('the answer');
    const chat = withSessionStorage(model, { store });
    const sessionId = sid('save-fails');
    vi.spyOn(store, 'appendRun').mockRejectedValueOnce(Object.assign(new Error('down'), {}));
    const err = (await chat.invoke('question', cfg(sessionId)).catch((e: unknown) => e)) as TurnNotStoredError;
    expect(err).toBeInstanceOf(TurnNotStoredError);
    expect((err.result as BaseMessage).content).toBe('the answer');
    await store.appendRun(err.run);
    await store.appendRun(err.run); // a retry with the same run id is not stored twice
    expect((await runsOf(store, sessionId)).flatMap(describeItems)).toEqual(['human:question', 'ai:the answer']);
  });

  it('item 10: mustExist makes an unknown or deleted session fail not_found before the model', async () => {
    const store = await open();
    const model = answering('one');
    const chat = withSessionStorage(model, { store, mustExist: true });
    const sessionId = sid('must');
    await expect(chat.invoke('Hi', cfg(sessionId))).rejects.toMatchObject({ code: 'not_found' });
    expect(model.calls).toHaveLength(0);
    expect(await store.getSession({ agentId: 'default', sessionId })).toBeNull();
    await store.createSession({ agentId: 'default', sessionId });
    await chat.invoke('Hi', cfg(sessionId));
    expect(model.calls).toHaveLength(1);
  });

  it('item 11: callers\' message objects are never mutated, and one sent again on a later turn is a new message', async () => {
    const store = await open();
    const model = answering('one', 'two');
    const chat = withSessionStorage(model, { store });
    const sessionId = sid('mutate');
    const ok = new HumanMessage('OK');
    await chat.invoke([ok], cfg(sessionId));
    expect(ok.id).toBeUndefined();
    await chat.invoke([ok], cfg(sessionId));
    expect(describeMessages(model.calls[1]!.messages)).toEqual(['human:OK', 'ai:one', 'human:OK']);
    expect((await runsOf(store, sessionId)).flatMap(describeItems)).toEqual(['human:OK', 'ai:one', 'human:OK', 'ai:two']);

    const history = new SessionChatMessageHistory({ store, sessionId: sid('history') });
    const idless = new HumanMessage('no id');
    await history.addMessages([idless]);
    expect(idless.id).toBeUndefined();
    expect((idless.lc_kwargs as { id?: string }).id).toBeUndefined();
  });
});
