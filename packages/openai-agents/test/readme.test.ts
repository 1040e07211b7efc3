import { join } from 'node:path';
import { MemoryStore } from '@agent-sessions/core';
import { withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, setDefaultModelProvider, type Model } from '@openai/agents';
import { ScriptedModel, assistantMessage, modelResponder } from '@openai/agents/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLog, readmeSnippets, runSnippet } from '../../../test/support/readme.js';
import { requestInputs, texts } from './helpers.js';

const here = import.meta.dirname;

// The SDK's default runner keeps the first default provider it sees: route through one provider
// for the whole file, each test choosing the models it serves.
let route: (name?: string) => Model = () => {
  throw new Error('no model routed');
};
setDefaultModelProvider({ getModel: async (name?: string) => route(name) });

/** The TypeScript snippets of this package's README, in order. */
const snippets = () => readmeSnippets(join(here, '..'));

describe('README', () => {
  // Each test file runs in its own process: the default provider set here stays in this file.
  afterEach(() => vi.restoreAllMocks());

  it('the first snippet runs as written: two turns of one user, the second sees the first', async () => {
    const model = new ScriptedModel([[assistantMessage('Noted: order 1234.')], [assistantMessage('It is 1234.')]]);
    // The snippet's agent names no model: the SDK's default provider serves the offline model.
    route = () => model;
    const logged = captureLog();
    const [first] = snippets();
    expect(first).toContain("withSessionStorage(agent, { store: new MemoryStore() })");
    await runSnippet(here, first!);
    expect(logged[0]).toMatch(/^sess_/);
    expect(logged[1]).toBe('It is 1234.');
    expect(texts(requestInputs(model)[1]!)).toEqual([
      'user: My order number is 1234.',
      'assistant: Noted: order 1234.',
      'user: What was my order number?',
    ]);
  });

  it('the old snippet (a user named on the second call only) fails not_found before the model, saying why', async () => {
    const model = new ScriptedModel([[assistantMessage('Noted.')]]);
    const support = withSessionStorage(new Agent({ name: 'support', model }), { store: new MemoryStore() });
    const first = await support.run('My order number is 1234.');
    const err = await support.run('What was my order number?', { sessionId: first.sessionId, userId: 'u42' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_found' });
    expect((err as Error).message).toContain(`session '${first.sessionId}' of agent 'support' not found for user 'u42'`);
    expect((err as Error).message).toMatch(/belongs to another user \(a session created without a userId belongs to no user/);
    expect(model.calls).toHaveLength(1);
  });
});

describe('README: session summaries', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the summary snippet runs as written: turn 40 is sent the fact of turn 1 through the summary', async () => {
    const model = new ScriptedModel(Array.from({ length: 40 }, (_, i) => [assistantMessage(i === 39 ? 'Rex.' : `Fact ${i + 1}.`)]));
    const summaries: string[] = [];
    const summaryModel = new ScriptedModel(
      Array.from({ length: 40 }, () =>
        modelResponder((call) => {
          const input = String(texts(call.request.input as never).join('\n'));
          const fact = /user: (My dog is called Rex\.)/.exec(input)?.[1];
          const previous = /Summary so far:\n([\s\S]*?)\n\nNext part/.exec(input)?.[1];
          summaries.push(fact ?? previous ?? '');
          return [assistantMessage(fact ?? (previous === '(none)' ? '' : previous ?? ''))];
        }),
      ),
    );
    route = (name) => (name === 'gpt-4.1-nano' ? summaryModel : model);
    const logged = captureLog();
    const snippet = snippets().find((s) => s.includes('openAIAgentsSummarizer'));
    expect(snippet).toBeDefined();
    await runSnippet(here, snippet!);
    expect(logged).toEqual(['Rex.']);
    const seen = texts(requestInputs(model)[39]!);
    expect(seen[0]).toMatch(/^user: Summary of the earlier conversation[\s\S]*My dog is called Rex\.$/);
    expect(seen.filter((t) => t.includes('Rex'))).toHaveLength(1);
  });
});
