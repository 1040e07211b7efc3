// Issue 15 item 9 for OpenAI Agents: type-level checks (compiled by `pnpm run typecheck`: each
// `@ts-expect-error` fails the build if its error disappears) and their run-time counterparts.
import { MemoryStore, isAgentSessionsError, withSessionStorage as coreWithSessionStorage } from '@agent-sessions/core';
import { withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent } from '@openai/agents';
import { ScriptedModel, assistantMessage } from '@openai/agents/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import './helpers.js';

const Answer = z.object({ answer: z.number() });

function typedAgent(model: ScriptedModel) {
  return new Agent({ name: 'typed', model, outputType: Answer });
}

describe('OpenAI Agents adapter types', () => {
  it("the output type survives core's withSessionStorage, as it does the package's; sessionId is a string", async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('{"answer":42}')], [assistantMessage('{"answer":7}')]]);
    const viaCore = coreWithSessionStorage(typedAgent(model), { store });
    const viaPackage = withSessionStorage(typedAgent(model), { store });
    const a = await viaCore.run('What is the answer?');
    const b = await viaPackage.run('And now?', { sessionId: a.sessionId });
    expectTypeOf(a.finalOutput).toEqualTypeOf<{ answer: number } | undefined>();
    expectTypeOf(a.finalOutput).toEqualTypeOf(b.finalOutput);
    expectTypeOf(a.sessionId).toEqualTypeOf<string>();
    expectTypeOf(b.runId).toEqualTypeOf<string>();
    // @ts-expect-error: finalOutput is `{ answer: number } | undefined`, not any
    const notAString: string = a.finalOutput;
    void notAString;
    expect(a.finalOutput).toEqual({ answer: 42 });
    expect(b.finalOutput?.answer).toBe(7);
    expect(b.sessionId).toBe(a.sessionId);
  });

  it('a misspelt sessionId does not compile, and at run time fails invalid_input before the model runs', async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('one')], [assistantMessage('two')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'typo', model }), { store });
    const first = await wrapped.run('hi');
    // @ts-expect-error: Object literal may only specify known properties ... Did you mean to write 'sessionId'?
    const typo = wrapped.run('again', { sesionId: first.sessionId });
    const err = await typo.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAgentSessionsError(err, 'invalid_input')).toBe(true);
    expect(String((err as Error).message)).toContain("options.sesionId is not an option agent-sessions reads; did you mean 'sessionId'?");
    for (const key of ['session_id', 'sessionID', 'userid', 'user_id', 'staleHistroy']) {
      const options = { [key]: 'x' } as Record<string, unknown>;
      await expect(wrapped.run('again', options as never)).rejects.toMatchObject({ code: 'invalid_input' });
    }
    // Only the first turn reached the model and the store.
    expect(model.calls).toHaveLength(1);
    const sessions = await store.listSessions({ agentId: 'typo' });
    expect(sessions.sessions.map((s) => s.sessionId)).toEqual([first.sessionId]);
  });

  it("the SDK's own run options pass", async () => {
    const store = new MemoryStore();
    const model = new ScriptedModel([[assistantMessage('ok')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'sdk-keys', model }), { store });
    const result = await wrapped.run('hi', { maxTurns: 3, context: undefined, signal: new AbortController().signal, metadata: { a: 1 } });
    expect(result.finalOutput).toBe('ok');
  });
});
