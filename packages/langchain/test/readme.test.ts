import { join } from 'node:path';
import { MemoryStore } from '@agent-sessions/core';
import { withSessionStorage } from '@agent-sessions/langchain';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createAgent } from 'langchain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLog, readmeSnippets, runSnippet } from '../../../test/support/readme.js';
import { describeMessages, getWeather, weatherModel } from './helpers.js';

const here = import.meta.dirname;

const snippets = () => readmeSnippets(join(here, '..'));

/** Runs a snippet as a module of its own, with its hosted model swapped for an offline one. */
async function runHostedSnippet(code: string, model: unknown): Promise<void> {
  const hosted = "model: 'openai:gpt-4.1-mini'";
  expect(code).toContain(hosted);
  (globalThis as { __readmeModel?: unknown }).__readmeModel = model;
  await runSnippet(here, code.replace(hosted, 'model: (globalThis as any).__readmeModel'));
}

describe('README', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the first snippet runs: two turns of one user, the second sees the first with its tool call', async () => {
    const model = weatherModel('Paris', 'Sunny in Paris.', 'Sunny tomorrow too.');
    const logged = captureLog();
    await runHostedSnippet(snippets()[0]!, model);
    expect(logged).toEqual(['Sunny tomorrow too.']);
    const seen = describeMessages(model.calls.at(-1)!.messages as BaseMessage[]);
    expect(seen[0]).toBe('human:Weather in Paris?');
    expect(seen.at(-1)).toBe('human:And tomorrow?');
    expect(seen).toContain('tool:It is sunny in Paris.');
  });

  it('the old snippet (a user named on the second call only) fails not_found before the model or a tool runs', async () => {
    const store = new MemoryStore();
    const model = fakeModel()
      .respond(new AIMessage('Noted.'))
      .respondWithTools([{ name: 'get_weather', args: { city: 'Oslo' } }])
      .respond(new AIMessage('never'));
    const toolCalls = vi.spyOn(getWeather, 'invoke');
    const agent = withSessionStorage(createAgent({ model, tools: [getWeather] }), { store });
    const first = await agent.invoke({ messages: [new HumanMessage('Hi')] });
    const err = await agent
      .invoke({ messages: [new HumanMessage('Weather in Oslo?')] }, { configurable: { sessionId: first.sessionId, userId: 'ada' } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_found' });
    expect((err as Error).message).toContain(`session '${first.sessionId}' of agent 'default' not found for user 'ada'`);
    expect(model.calls).toHaveLength(1);
    expect(toolCalls).not.toHaveBeenCalled();
  });
});

describe('README: session summaries', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the summary snippet runs: turn 40 sees the fact of turn 1 only through the summary', async () => {
    const model = fakeModel();
    for (let i = 1; i <= 39; i++) model.respond(new AIMessage(`Fact ${i}.`));
    model.respond(new AIMessage('Miso.'));
    const summaryModel = fakeModel();
    for (let i = 0; i < 40; i++) {
      summaryModel.respond((messages: BaseMessage[]) => {
        const input = String(messages.at(-1)!.content);
        const fact = /user: (My cat is called Miso\.)/.exec(input)?.[1];
        const previous = /Summary so far:\n([\s\S]*?)\n\nNext part/.exec(input)?.[1];
        return new AIMessage(fact ?? (previous === '(none)' ? '' : (previous ?? '')));
      });
    }
    (globalThis as { __readmeSummaryModel?: unknown }).__readmeSummaryModel = summaryModel;
    const logged = captureLog();
    const snippet = snippets().find((s) => s.includes('langchainSummarizer'));
    const hostedSummary = "await initChatModel('openai:gpt-4.1-nano')";
    expect(snippet).toContain(hostedSummary);
    await runHostedSnippet(snippet!.replace(hostedSummary, '(globalThis as any).__readmeSummaryModel'), model);
    expect(logged).toEqual(['Miso.']);
    const seen = describeMessages(model.calls[39]!.messages as BaseMessage[]);
    expect(seen[0]).toMatch(/^human:Summary of the earlier conversation[\s\S]*My cat is called Miso\.$/);
    expect(seen.filter((t) => t.includes('Miso'))).toHaveLength(1);
  });
});
