import { randomUUID } from 'node:crypto';
import { AlreadyResumedError, TurnNotStoredError, isAgentSessionsError } from '@agent-sessions/core';
import { withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, tool, type AgentInputItem } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall, modelResponder } from '@openai/agents/testing';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { requestInputs, texts, types } from './helpers.js';
import { STORES } from '../../../test/support/stores.js';

const sid = (label: string) => `${label}-${randomUUID()}`;

describe.each(STORES)('withSessionStorage (OpenAI Agents) on $name', ({ open }) => {
  it('item 2: the stored summary reaches the model through window.prefix, with no extra read per turn', async () => {
    const store = await open();
    const model = new ScriptedModel([[assistantMessage('Hello Ada')], [assistantMessage('You like tea')]]);
    const seen: (string | null)[] = [];
    const wrapped = withSessionStorage(new Agent({ name: 'summ', model }), {
      store,
      window: {
        prefix: (session) => {
          seen.push(session?.summary ?? null);
          return session?.summary ? [{ type: 'message', role: 'user', content: `Summary: ${session.summary}` } as AgentInputItem] : [];
        },
      },
    });
    const sessionId = sid('summary');
    await wrapped.run('I am Ada', { sessionId });
    const header = await store.getSession({ agentId: 'summ', sessionId });
    await store.updateSession({ agentId: 'summ', sessionId, expectedVersion: header!.version, summary: 'Ada likes tea.' });

    const reads = { readHistory: vi.spyOn(store, 'readHistory'), listRuns: vi.spyOn(store, 'listRuns'), getSession: vi.spyOn(store, 'getSession') };
    await wrapped.run('What do I like?', { sessionId, userId: undefined });
    expect(seen).toEqual([null, 'Ada likes tea.']);
    expect(texts(requestInputs(model)[1]!)).toEqual(['user: Summary: Ada likes tea.', 'user: I am Ada', 'assistant: Hello Ada', 'user: What do I like?']);
    expect([reads.readHistory.mock.calls.length, reads.listRuns.mock.calls.length, reads.getSession.mock.calls.length]).toEqual([1, 0, 0]);
  });

  describe('item 3: a resumed interruption is stored at most once and its tools run at most once', () => {
    function setup() {
      const executed: string[] = [];
      const wipe = tool({
        name: 'wipe',
        description: 'Deletes a path',
        parameters: z.object({ path: z.string() }),
        needsApproval: true,
        execute: async ({ path }) => {
          executed.push(path);
          return `deleted ${path}`;
        },
      });
      const model = new ScriptedModel([[functionCall('wipe', { path: '/tmp/x' }, { callId: 'w1' })], [assistantMessage('Wiped.')], [assistantMessage('Wiped again?!')]]);
      return { executed, agent: new Agent({ name: 'ops', model, tools: [wipe] }), model };
    }

    it('approving twice in a row (a double click, a retried request): the second gets the stored outcome as a typed conflict', async () => {
      const store = await open();
      const { executed, agent } = setup();
      const sessionId = sid('double');
      await withSessionStorage(agent, { store }).run('Wipe /tmp/x', { sessionId });
      // Two requests, each restoring the RunState from the store and approving it.
      const a = await withSessionStorage(agent, { store }).getInterruption({ sessionId });
      const b = await withSessionStorage(agent, { store }).getInterruption({ sessionId });
      a!.state.approve(a!.interruptions[0]!);
      b!.state.approve(b!.interruptions[0]!);
      const done = await withSessionStorage(agent, { store }).run(a!.state, { sessionId });
      const err = await withSessionStorage(agent, { store }).run(b!.state, { sessionId }).catch((e: unknown) => e);
      expect(isAgentSessionsError(err, 'conflict')).toBe(true);
      expect(err).toBeInstanceOf(AlreadyResumedError);
      expect((err as AlreadyResumedError).run?.runId).toBe(done.runId);
      expect(executed).toEqual(['/tmp/x']);
      const runs = await store.listRuns({ agentId: 'ops', sessionId, limit: 10 });
      expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
    });

    it('two resumes at once: one runs the tool and stores the turn, the other fails with conflict before any tool runs', async () => {
      const store = await open();
      const { executed, agent } = setup();
      const sessionId = sid('race');
      const first = await withSessionStorage(agent, { store }).run('Wipe /tmp/x', { sessionId });
      first.state.approve(first.interruptions[0]!);
      const other = await withSessionStorage(agent, { store }).getInterruption({ sessionId });
      other!.state.approve(other!.interruptions[0]!);
      const outcomes = await Promise.allSettled([
        withSessionStorage(agent, { store }).run(first.state, { sessionId }),
        withSessionStorage(agent, { store }).run(other!.state, { sessionId }),
      ]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      expect(isAgentSessionsError(rejected.reason, 'conflict')).toBe(true);
      expect(executed).toEqual(['/tmp/x']);
      const runs = await store.listRuns({ agentId: 'ops', sessionId, limit: 10 });
      expect(runs.map((r) => r.status)).toEqual(['interrupted', 'completed']);
      expect(types(runs[1]!.items).filter((t) => t === 'function_call_result')).toHaveLength(1);
    });
  });

  it('item 6: system items are instructions: sent with their turn, never stored, never replayed', async () => {
    const store = await open();
    const model = new ScriptedModel([[assistantMessage('one')], [assistantMessage('two')], [assistantMessage('three')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'sys', model }), { store });
    const sessionId = sid('system');
    const turn = (text: string) => [{ role: 'system', content: 'Be brief.' } as AgentInputItem, { role: 'user', content: text } as AgentInputItem];
    for (const text of ['a', 'b', 'c']) await wrapped.run(turn(text), { sessionId });
    expect(texts(requestInputs(model)[2]!).filter((t) => t.startsWith('system'))).toEqual(['system: Be brief.']);
    const runs = await store.listRuns({ agentId: 'sys', sessionId, limit: 10 });
    expect(runs.flatMap((r) => texts(r.items as AgentInputItem[]))).toEqual(['user: a', 'assistant: one', 'user: b', 'assistant: two', 'user: c', 'assistant: three']);
  });

  it("item 7: staleHistory 'reject' refuses a turn another turn overtook (conflict, answer kept); the default interleaves", async () => {
    const store = await open();
    const sessionId = sid('stale');
    let entered!: () => void;
    let release!: () => void;
    const modelCalled = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (release = r));
    const slow = new ScriptedModel([
      modelResponder(async () => {
        entered();
        await gate;
        return [assistantMessage('slow answer')];
      }),
    ]);
    const strict = withSessionStorage(new Agent({ name: 'stale', model: slow }), { store, staleHistory: 'reject' });
    const fast = withSessionStorage(new Agent({ name: 'stale', model: new ScriptedModel([[assistantMessage('fast answer')]]) }), { store });
    const pending = strict.run('slow question', { sessionId }).catch((e: unknown) => e);
    await modelCalled;
    await fast.run('fast question', { sessionId });
    release();
    const err = await pending;
    expect(isAgentSessionsError(err, 'conflict')).toBe(true);
    expect(err).toBeInstanceOf(TurnNotStoredError);
    expect(((err as TurnNotStoredError).result as { finalOutput: string }).finalOutput).toBe('slow answer');
    const runs = await store.listRuns({ agentId: 'stale', sessionId, limit: 10 });
    expect(runs.flatMap((r) => texts(r.items as AgentInputItem[]))).toEqual(['user: fast question', 'assistant: fast answer']);
  });

  it('item 8: a save that fails after the model answered keeps the answer and the run to retry with', async () => {
    const store = await open();
    const wrapped = withSessionStorage(new Agent({ name: 'save', model: new ScriptedModel([[assistantMessage('the answer')]]) }), { store });
    const sessionId = sid('save');
    vi.spyOn(store, 'appendRun').mockRejectedValueOnce(new Error('down'));
    const err = (await wrapped.run('question', { sessionId }).catch((e: unknown) => e)) as TurnNotStoredError;
    expect(err).toBeInstanceOf(TurnNotStoredError);
    expect((err.result as { finalOutput: string }).finalOutput).toBe('the answer');
    await store.appendRun(err.run);
    await store.appendRun(err.run);
    const runs = await store.listRuns({ agentId: 'save', sessionId, limit: 10 });
    expect(runs.flatMap((r) => texts(r.items as AgentInputItem[]))).toEqual(['user: question', 'assistant: the answer']);
  });

  it('item 10: mustExist makes an unknown or deleted session fail not_found before the model', async () => {
    const store = await open();
    const model = new ScriptedModel([[assistantMessage('one')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'must', model }), { store, mustExist: true });
    const sessionId = sid('must');
    await expect(wrapped.run('Hi', { sessionId })).rejects.toMatchObject({ code: 'not_found' });
    expect(model.calls).toHaveLength(0);
    expect(await store.getSession({ agentId: 'must', sessionId })).toBeNull();
    await store.createSession({ agentId: 'must', sessionId });
    await wrapped.run('Hi', { sessionId });
    expect(model.calls).toHaveLength(1);
    // A run naming no session still starts one.
    await expect(withSessionStorage(new Agent({ name: 'must', model: new ScriptedModel([[assistantMessage('x')]]) }), { store, mustExist: true }).run('new')).resolves.toBeDefined();
  });
});
