import { randomUUID } from 'node:crypto';
import { withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, type AgentInputItem } from '@openai/agents';
import { ScriptedModel, assistantMessage } from '@openai/agents/testing';
import { describe, expect, it } from 'vitest';
import { requestInputs, texts } from './helpers.js';
import { STORES } from '../../../test/support/stores.js';

// The native Session changes history with appends that carry markers (`replaces`: the items of
// the history before them they replace). The wrapper's window applies them too, so a session
// rewritten through the native Session shows the same history through the wrapper.

const sid = (label: string) => `${label}-${randomUUID()}`;

describe.each(STORES)('the wrapper reads history rewritten by the native Session, on $name', ({ open }) => {
  it('a replaced suffix (history transaction) is what the next wrapped turn sends the model', async () => {
    const store = await open();
    const model = new ScriptedModel([[assistantMessage('Answer 1.')], [assistantMessage('Answer 2.')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'rewritten', model }), { store });
    const sessionId = sid('rewritten');
    await wrapped.run('first', { sessionId });

    const session = wrapped.session({ sessionId });
    const [last] = await session.getItems(1);
    const corrected: AgentInputItem = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Corrected 1.' }] };
    await session.applyHistoryTransaction({ operationId: 'op-1', transaction: { type: 'replace_suffix', expectedSuffix: [last!], replacement: [corrected] } });
    expect(texts(await session.getItems())).toEqual(['user: first', 'assistant: Corrected 1.']);

    await wrapped.run('second', { sessionId });
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: first', 'assistant: Corrected 1.', 'user: second']);
    // And the native Session sees the same history afterwards.
    expect(texts(await session.getItems())).toEqual(['user: first', 'assistant: Corrected 1.', 'user: second', 'assistant: Answer 2.']);
  });

  it('a pop that restates the history (after a rewrite) hides the popped item from the wrapped turn too', async () => {
    const store = await open();
    const model = new ScriptedModel([[assistantMessage('Answer 1.')], [assistantMessage('Answer 2.')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'popped', model }), { store, window: { lastRuns: 5 } });
    const sessionId = sid('popped');
    await wrapped.run('first', { sessionId });
    const session = wrapped.session({ sessionId });
    const [last] = await session.getItems(1);
    const corrected: AgentInputItem = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Corrected 1.' }] };
    await session.applyHistoryTransaction({ operationId: 'op-2', transaction: { type: 'replace_suffix', expectedSuffix: [last!], replacement: [corrected] } });
    // The newest run ends a rewrite: popping appends the history without its last item.
    expect(texts([(await session.popItem())!])).toEqual(['assistant: Corrected 1.']);
    await wrapped.run('second', { sessionId });
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: first', 'user: second']);
  });
});
