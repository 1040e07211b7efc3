import { randomUUID } from 'node:crypto';
import type { SessionStore } from '@agent-sessions/core';
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

/**
 * A wrapped agent `name` whose first turn ('first') is stored, then its answer replaced with
 * 'Corrected 1.' through the native Session's history transaction `operationId`.
 */
async function correctedFirstTurn(store: SessionStore, name: string, operationId: string, window?: { lastRuns: number }) {
  const model = new ScriptedModel([[assistantMessage('Answer 1.')], [assistantMessage('Answer 2.')]]);
  const wrapped = withSessionStorage(new Agent({ name, model }), window ? { store, window } : { store });
  const sessionId = sid(name);
  await wrapped.run('first', { sessionId });
  const session = wrapped.session({ sessionId });
  const [last] = await session.getItems(1);
  const corrected: AgentInputItem = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Corrected 1.' }] };
  await session.applyHistoryTransaction({ operationId, transaction: { type: 'replace_suffix', expectedSuffix: [last!], replacement: [corrected] } });
  return { model, wrapped, sessionId, session };
}

describe.each(STORES)('the wrapper reads history rewritten by the native Session, on $name', ({ open }) => {
  it('a replaced suffix (history transaction) is what the next wrapped turn sends the model', async () => {
    const { model, wrapped, sessionId, session } = await correctedFirstTurn(await open(), 'rewritten', 'op-1');
    expect(texts(await session.getItems())).toEqual(['user: first', 'assistant: Corrected 1.']);

    await wrapped.run('second', { sessionId });
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: first', 'assistant: Corrected 1.', 'user: second']);
    // And the native Session sees the same history afterwards.
    expect(texts(await session.getItems())).toEqual(['user: first', 'assistant: Corrected 1.', 'user: second', 'assistant: Answer 2.']);
  });

  it('a pop that restates the history (after a rewrite) hides the popped item from the wrapped turn too', async () => {
    const { model, wrapped, sessionId, session } = await correctedFirstTurn(await open(), 'popped', 'op-2', { lastRuns: 5 });
    // The newest run ends a rewrite: popping appends the history without its last item.
    expect(texts([(await session.popItem())!])).toEqual(['assistant: Corrected 1.']);
    await wrapped.run('second', { sessionId });
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: first', 'user: second']);
  });
});
