import { randomUUID } from 'node:crypto';
import type { SummaryFailure, SummaryOptions } from '@agent-sessions/core';
import { AgentSessionsSession, openAIAgentsSummarizer, withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, run } from '@openai/agents';
import { ScriptedModel, assistantMessage, modelResponder } from '@openai/agents/testing';
import { describe, expect, it, vi } from 'vitest';
import { requestInputs, texts } from './helpers.js';
import { STORES } from '../../../test/support/stores.js';
import { factSummary, failingSummarizer, foldTwoInstancesAtOnce, gatedSummarizer, seqSummarizer } from '../../../test/support/summary.js';

const sid = (label: string) => `${label}-${randomUUID()}`;

/** An agent whose scripted model answers `Answer n.` for as many turns as asked. */
function chatAgent(name: string, turns: number) {
  const model = new ScriptedModel(Array.from({ length: turns }, (_, i) => [assistantMessage(`Answer ${i + 1}.`)]));
  return { model, agent: new Agent({ name, instructions: 'Be brief.', model }) };
}

/** An offline summarizing model: the previous summary plus every user line stating a fact ("My ..."). */
function factModel(turns = 200) {
  return new ScriptedModel(
    Array.from({ length: turns }, () =>
      modelResponder((call) => {
        const input = texts(typeof call.request.input === 'string' ? [{ role: 'user', content: call.request.input, type: 'message' }] : call.request.input).join('\n');
        return [assistantMessage(factSummary(input))];
      }),
    ),
  );
}

describe.each(STORES)('OpenAI Agents session summaries on $name', ({ open }) => {
  it('40 turns: the fact of turn 1 reaches the model on turn 40 only through the summary', async () => {
    const store = await open();
    const summarizerModel = factModel();
    const { model, agent } = chatAgent('forty', 40);
    const wrapped = withSessionStorage(agent, { store, summary: { summarizer: openAIAgentsSummarizer(summarizerModel), await: true } });
    const first = await wrapped.run('My dog is called Rex.');
    for (let n = 2; n <= 39; n++) await wrapped.run(`Small talk ${n}.`, { sessionId: first.sessionId });
    await wrapped.run('What is my dog called?', { sessionId: first.sessionId });

    const seen = texts(requestInputs(model)[39]!);
    expect(seen).toHaveLength(1 + 20 + 1);
    expect(seen[0]).toMatch(/^user: Summary of the earlier conversation[\s\S]*user: My dog is called Rex\.$/);
    expect(seen.filter((m) => m.includes('Rex'))).toHaveLength(1);
    expect(seen[1]).toBe('user: Small talk 30.');
    expect(summarizerModel.calls).toHaveLength(30);
    // The summarizer was sent the documented prompt as instructions and the run to fold.
    expect(summarizerModel.calls[0]!.request.systemInstructions).toMatch(/running summary of a conversation/);
    const header = await store.getSession({ agentId: 'forty', sessionId: first.sessionId });
    expect([header!.summarySeq, header!.summary]).toEqual([30, 'user: My dog is called Rex.']);
    const runs = await store.listRuns({ agentId: 'forty', sessionId: first.sessionId, limit: 1000 });
    expect(runs.some((r) => JSON.stringify(r.items).includes('Summary of the earlier'))).toBe(false);
  });

  it('by default the result comes back before the summary is made; a streamed turn too', async () => {
    const store = await open();
    const { summarizer, release } = gatedSummarizer();
    const { agent } = chatAgent('background', 3);
    const wrapped = withSessionStorage(agent, { store, window: { lastRuns: 1 }, summary: { summarizer } });
    const first = await wrapped.run('one');
    const second = await wrapped.run('two', { sessionId: first.sessionId });
    expect(second.finalOutput).toBe('Answer 2.');
    await vi.waitFor(() => expect(summarizer).toHaveBeenCalledTimes(1));
    expect((await store.getSession({ agentId: 'background', sessionId: first.sessionId }))!.summarySeq).toBe(0);
    const streamed = await wrapped.run('three', { sessionId: first.sessionId, stream: true });
    for await (const _ of streamed) void _;
    await streamed.completed; // stored; the summary of run 2 waits behind the busy one
    release();
    await vi.waitFor(async () => expect((await store.getSession({ agentId: 'background', sessionId: first.sessionId }))!.summary).toBe('+'));
  });

  it('a failing summarizer never fails a turn; the runs are folded on a later turn, once', async () => {
    const store = await open();
    const failures: SummaryFailure[] = [];
    const summarizer = failingSummarizer(2);
    const { agent } = chatAgent('failing', 6);
    const wrapped = withSessionStorage(agent, { store, window: { lastRuns: 2 }, summary: { summarizer, await: true, onError: (f) => failures.push(f) } });
    const first = await wrapped.run('turn 1');
    for (let n = 2; n <= 6; n++) expect((await wrapped.run(`turn ${n}`, { sessionId: first.sessionId })).finalOutput).toBe(`Answer ${n}.`);
    expect(failures.map((f) => f.stage)).toEqual(['summarizer', 'summarizer']);
    const header = await store.getSession({ agentId: 'failing', sessionId: first.sessionId });
    expect([header!.summary, header!.summarySeq]).toEqual(['[1,2,3][4]', 4]);
  });

  it("the native Session's own summary option: with the SDK's run(), the fact of turn 1 reaches turn 12 only through the summary", async () => {
    const store = await open();
    const summarizerModel = factModel();
    const { model, agent } = chatAgent('native-summary', 12);
    const session = new AgentSessionsSession({
      store,
      agentId: 'native-summary',
      sessionId: sid('native-summary'),
      window: { lastRuns: 4 },
      summary: { summarizer: openAIAgentsSummarizer(summarizerModel), await: true },
    });
    await run(agent, 'My cat is called Tom.', { session });
    for (let n = 2; n <= 11; n++) await run(agent, `Small talk ${n}.`, { session });
    await run(agent, 'What is my cat called?', { session });

    const seen = texts(requestInputs(model)[11]!);
    expect(seen[0]).toMatch(/^user: Summary of the earlier conversation[\s\S]*user: My cat is called Tom\.$/);
    expect(seen.filter((m) => m.includes('Tom'))).toHaveLength(1);
    expect(seen.at(-1)).toBe('user: What is my cat called?');
    const header = await store.getSession({ agentId: 'native-summary', sessionId: session.sessionId });
    expect(header!.summary).toBe('user: My cat is called Tom.');
    // Every run that left the window was folded, each once, after its addItems.
    expect(header!.summarySeq).toBe(header!.lastSeq - 4);
    // The runs each summarizer call was given to fold (after the summary so far): turn 1's run once.
    const folded = summarizerModel.calls.map((c) => JSON.stringify(c.request.input).split('Next part of the conversation:')[1] ?? '').join('\n');
    expect(folded.match(/user: My cat is called Tom\./g)).toHaveLength(1);
  });

  it('the native Session folds off the hot path by default: addItems returns before the summarizer finishes', async () => {
    const store = await open();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const summarizer = vi.fn(async (previous: string | null, runs: readonly { seq: number }[]) => {
      await gate;
      return `${previous ?? ''}[${runs.map((r) => r.seq).join(',')}]`;
    });
    const session = new AgentSessionsSession({ store, agentId: 'native-bg', window: { lastRuns: 1 }, summary: { summarizer } });
    await session.addItems([{ role: 'user', content: 'u1' }]);
    // (Its fold finds nothing to do; one still running would make the next one skip as busy.)
    await new Promise((r) => setTimeout(r, 50));
    await session.addItems([{ role: 'user', content: 'u2' }]);
    await vi.waitFor(() => expect(summarizer).toHaveBeenCalledTimes(1));
    expect((await store.getSession({ agentId: 'native-bg', sessionId: session.sessionId }))!.summarySeq).toBe(0);
    release();
    await vi.waitFor(async () => expect((await store.getSession({ agentId: 'native-bg', sessionId: session.sessionId }))!.summary).toBe('[1]'));
    expect(texts(await session.getItems())).toEqual(['user: Summary of the earlier conversation (older turns are not shown):\n[1]', 'user: u2']);
  });

  it("the native Session renders the summary; summarize() folds after the SDK's own run()", async () => {
    const store = await open();
    const summary: SummaryOptions = { summarizer: seqSummarizer() };
    const { agent } = chatAgent('native', 0);
    const wrapped = withSessionStorage(agent, { store, window: { lastRuns: 2 }, summary });
    const session = wrapped.session({ sessionId: sid('native') });
    for (let n = 1; n <= 4; n++) await session.addItems([{ role: 'user', content: `u${n}` }]);
    expect(await wrapped.summarize({ sessionId: session.sessionId })).toBe('folded');
    const items = texts(await session.getItems());
    expect(items).toEqual(['user: Summary of the earlier conversation (older turns are not shown):\n[1,2]', 'user: u3', 'user: u4']);
  });
});

describe('OpenAI Agents summaries: two instances over one PostgreSQL (PGlite) at once', () => {
  it('every run is folded exactly once however the two interleave', async () => {
    await foldTwoInstancesAtOnce('two', (store, options) => {
      const wrapped = withSessionStorage(chatAgent('two', 15).agent, { store, ...options });
      return (input, sessionId) => wrapped.run(input, { sessionId });
    });
  }, 60_000);
});
