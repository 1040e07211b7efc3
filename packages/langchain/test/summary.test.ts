import { randomUUID } from 'node:crypto';
import type { SummaryFailure, SummaryOptions } from '@agent-sessions/core';
import { SessionChatMessageHistory, langchainSummarizer, withSessionStorage } from '@agent-sessions/langchain';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createAgent } from 'langchain';
import { describe, expect, it, vi } from 'vitest';
import { describeMessages } from './helpers.js';
import { STORES } from '../../../test/support/stores.js';
import { factSummary, failingSummarizer, foldTwoInstancesAtOnce, gatedSummarizer } from '../../../test/support/summary.js';

const sid = (label: string) => `${label}-${randomUUID()}`;
const cfg = (sessionId: string) => ({ configurable: { sessionId } });

/**
 * An offline summarizing model: keeps the previous summary and every user line that states a
 * fact ("My ..."), so what the summary holds is predictable.
 */
function factModel(turns = 200) {
  const model = fakeModel();
  for (let i = 0; i < turns; i++) {
    model.respond((messages: BaseMessage[]) => {
      return new AIMessage(factSummary(String(messages.at(-1)!.content)));
    });
  }
  return model;
}

/** A chat model answering every turn. */
function chatModel(turns: number) {
  const model = fakeModel();
  for (let i = 1; i <= turns; i++) model.respond(new AIMessage(`Answer ${i}.`));
  return model;
}

describe.each(STORES)('LangChain session summaries on $name', ({ open }) => {
  it('40 turns: the fact of turn 1 reaches the model on turn 40 only through the summary', async () => {
    const store = await open();
    const summarizerModel = factModel();
    const model = chatModel(40);
    const chat = withSessionStorage(model, { store, summary: { summarizer: langchainSummarizer(summarizerModel), await: true } });
    const sessionId = sid('forty');
    await chat.invoke('My cat is called Miso.', cfg(sessionId));
    for (let n = 2; n <= 39; n++) await chat.invoke(`Small talk ${n}.`, cfg(sessionId));
    await chat.invoke('What is my cat called?', cfg(sessionId));

    const seen = describeMessages(model.calls[39]!.messages);
    // The summary first, then the last 10 runs (20 messages), then the question.
    expect(seen).toHaveLength(1 + 20 + 1);
    expect(seen[0]).toMatch(/^human:Summary of the earlier conversation[\s\S]*user: My cat is called Miso\.$/);
    expect(seen.filter((m) => m.includes('Miso'))).toHaveLength(1);
    expect(seen[1]).toBe('human:Small talk 30.');
    // Each run left the window once and was folded once: after turn 40 is stored, runs 1..30 have
    // left a 10-run window, in 30 summarizer calls of one run each.
    expect(summarizerModel.calls).toHaveLength(30);
    const header = await store.getSession({ agentId: 'default', sessionId });
    expect(header!.summarySeq).toBe(30);
    expect(header!.summary).toBe('user: My cat is called Miso.');
    // Nothing of the summary was stored as conversation.
    const runs = await store.listRuns({ agentId: 'default', sessionId, limit: 1000 });
    expect(runs.every((r) => JSON.stringify(r.items).includes('Summary of the earlier') === false)).toBe(true);
  });

  it('by default the summary is made after the result is returned, without delaying it', async () => {
    const store = await open();
    const { summarizer, release } = gatedSummarizer();
    const chat = withSessionStorage(chatModel(3), { store, window: { lastRuns: 1 }, summary: { summarizer } });
    const sessionId = sid('background');
    await chat.invoke('one', cfg(sessionId));
    const second = await chat.invoke('two', cfg(sessionId)); // run 1 leaves the window: the summarizer starts and waits
    expect(second.content).toBe('Answer 2.');
    await vi.waitFor(() => expect(summarizer).toHaveBeenCalledTimes(1));
    expect((await store.getSession({ agentId: 'default', sessionId }))!.summarySeq).toBe(0);
    release();
    await vi.waitFor(async () => expect((await store.getSession({ agentId: 'default', sessionId }))!.summary).toBe('+'));
  });

  it('a failing summarizer never fails a turn; the runs are folded on a later turn, once', async () => {
    const store = await open();
    const failures: SummaryFailure[] = [];
    const summarizer = failingSummarizer(2);
    const chat = withSessionStorage(chatModel(6), {
      store,
      window: { lastRuns: 2 },
      summary: { summarizer, await: true, onError: (f) => failures.push(f) },
    });
    const sessionId = sid('failing');
    for (let n = 1; n <= 6; n++) expect((await chat.invoke(`turn ${n}`, cfg(sessionId))).content).toBe(`Answer ${n}.`);
    expect(failures.map((f) => f.stage)).toEqual(['summarizer', 'summarizer']);
    const header = await store.getSession({ agentId: 'default', sessionId });
    expect([header!.summary, header!.summarySeq]).toEqual(['[1,2,3][4]', 4]);
  });

  it('the window token budget counts the summary; a createAgent agent and the chat history see it too', async () => {
    const store = await open();
    const sessionId = sid('budget');
    const summary: SummaryOptions = { summarizer: async () => 'S'.repeat(400), await: true };
    const model = chatModel(12);
    const chat = withSessionStorage(model, { store, window: { lastRuns: 10, maxTokens: 150 }, summary });
    for (let n = 1; n <= 12; n++) await chat.invoke(`turn ${n}`, cfg(sessionId));
    const last = describeMessages(model.calls[11]!.messages);
    expect(last[0]).toMatch(/^human:Summary of the earlier conversation/);
    // Without the summary's ~100 tokens the window would have held all 10 runs.
    expect(last.length - 2).toBeLessThan(20);

    const agentModel = chatModel(1);
    const agent = withSessionStorage(createAgent({ model: agentModel, tools: [] }), { store, summary });
    await agent.invoke({ messages: [new HumanMessage('and now?')] }, cfg(sessionId));
    expect(describeMessages(agentModel.calls[0]!.messages)[0]).toMatch(/^human:Summary of the earlier conversation/);

    const history = new SessionChatMessageHistory({ store, sessionId, summary });
    expect(describeMessages(await history.getMessages())[0]).toMatch(/^human:Summary of the earlier conversation/);
  });
});

describe('LangChain summaries: two instances over one PostgreSQL (PGlite) at once', () => {
  it('every run is folded exactly once however the two interleave', async () => {
    await foldTwoInstancesAtOnce('default', (store, options) => {
      const chat = withSessionStorage(chatModel(30), { store, ...options });
      return (input, sessionId) => chat.invoke(input, cfg(sessionId));
    });
  }, 60_000);
});
