import { SessionChatMessageHistory } from '@agent-sessions/langchain';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { describe, expect, it } from 'vitest';
import { answering, describeMessages, expectTwoTurns, newStore, runsOf } from './helpers.js';

describe('SessionChatMessageHistory', () => {
  it('backs RunnableWithMessageHistory: one run per turn, history handed to the prompt', async () => {
    const store = newStore();
    const model = answering('Hi Bo.', 'Your name is Bo.');
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', 'You are helpful.'],
      new MessagesPlaceholder('history'),
      ['human', '{question}'],
    ]);
    const chain = new RunnableWithMessageHistory({
      runnable: prompt.pipe(model),
      getMessageHistory: (sessionId: string) => new SessionChatMessageHistory({ store, sessionId }),
      inputMessagesKey: 'question',
      historyMessagesKey: 'history',
    });

    await chain.invoke({ question: 'I am Bo.' }, { configurable: { sessionId: 'h1' } });
    const out = await chain.invoke({ question: 'Who am I?' }, { configurable: { sessionId: 'h1' } });
    expect(out.content).toBe('Your name is Bo.');
    await expectTwoTurns(model, store, 'h1', [['I am Bo.', 'Hi Bo.'], ['Who am I?', 'Your name is Bo.']], 'You are helpful.');
  });

  it('adds, windows and clears messages', async () => {
    const store = newStore();
    const history = new SessionChatMessageHistory({ store, sessionId: 'h2', agentId: 'support', window: { lastRuns: 2 } });
    await history.addUserMessage('one');
    await history.addAIMessage('two');
    await history.addMessages([new HumanMessage('three'), new AIMessage('four')]);
    expect(describeMessages(await history.getMessages())).toEqual(['ai:two', 'human:three', 'ai:four']);
    expect(await runsOf(store, 'h2', 'support')).toHaveLength(3);
    await history.clear();
    expect(await history.getMessages()).toEqual([]);
    expect(await store.getSession({ agentId: 'support', sessionId: 'h2' })).toBeNull();
  });

  it("is scoped to its user: another user's history object sees nothing and cannot write", async () => {
    const store = newStore();
    await new SessionChatMessageHistory({ store, sessionId: 'h3', userId: 'ann' }).addUserMessage('private');
    const intruder = new SessionChatMessageHistory({ store, sessionId: 'h3', userId: 'eve' });
    expect(await intruder.getMessages()).toEqual([]);
    await expect(intruder.addUserMessage('hijack')).rejects.toMatchObject({ code: 'not_found' });
    expect(describeMessages(await new SessionChatMessageHistory({ store, sessionId: 'h3', userId: 'ann' }).getMessages())).toEqual([
      'human:private',
    ]);
  });

  it('needs a store and a session id', () => {
    expect(() => new SessionChatMessageHistory({ store: newStore() } as never)).toThrow(/sessionId/);
    expect(() => new SessionChatMessageHistory({ sessionId: 'x' } as never)).toThrow(/store/);
  });
});
