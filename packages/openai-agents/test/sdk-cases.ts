import { MemoryStore, type SessionStore } from '@agent-sessions/core';
import { AgentSessionsSession, withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, MemorySession, RunContext, RunState, run, tool, type AgentInputItem, type Session } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TurnSession } from '../src/turn-session.js';
import { inputProblems, requestInputs, texts, types } from './helpers.js';

const user = (text: string): AgentInputItem => ({ type: 'message', role: 'user', content: text });
const reply = (text: string): AgentInputItem => assistantMessage(text) as AgentInputItem;
const compaction = (tag: string): AgentInputItem => ({ type: 'compaction', encrypted_content: `enc-${tag}` }) as AgentInputItem;
const call = (id: string, args = '{}'): AgentInputItem => functionCall('weather', args, { callId: id }) as AgentInputItem;
const result = (id: string, output: string): AgentInputItem =>
  ({ type: 'function_call_result', name: 'weather', callId: id, status: 'completed', output }) as AgentInputItem;
/** What the runner reads (it passes its run context); the app's getItems() is the window. */
const runnerView = (s: AgentSessionsSession) => s.getItems(undefined, new RunContext());

/**
 * The SDK's own session expectations (its MemorySession and its session tests), run on our
 * classes over a store, with the SDK's ScriptedModel for runs.
 */
export function sdkSessionSuite(name: string, open: () => Promise<SessionStore>): void {
  const fresh = async (extra: { window?: { lastRuns?: number } } = {}) => {
    const store = await open();
    const session = new AgentSessionsSession({ store, agentId: 'sdk', sessionId: `s-${randomUUID()}`, ...extra });
    return { store, session };
  };

  describe(`${name}: the SDK's session expectations (as its MemorySession behaves)`, () => {
    it('getItems(limit): the latest N oldest first; a limit beyond the history gives all; 0 or less gives none', async () => {
      const { session } = await fresh();
      await session.addItems([user('1'), reply('2')]);
      await session.addItems([user('3'), reply('4')]);
      expect(texts(await session.getItems(3))).toEqual(['assistant: 2', 'user: 3', 'assistant: 4']);
      expect(await session.getItems(99)).toHaveLength(4);
      expect(await session.getItems(0)).toEqual([]);
      expect(await session.getItems(-1)).toEqual([]);
    });

    it('batches keep their order; an empty batch writes nothing', async () => {
      const { store, session } = await fresh();
      await session.addItems([]);
      expect(await store.getSession({ agentId: 'sdk', sessionId: session.sessionId })).toBeNull();
      await session.addItems([user('a'), user('b')]);
      await session.addItems([user('c')]);
      await session.addItems([]);
      expect(texts(await runnerView(session))).toEqual(['user: a', 'user: b', 'user: c']);
    });

    it('popItem: newest first, then undefined; concurrent pops never return the same item', async () => {
      const { session } = await fresh();
      expect(await session.popItem()).toBeUndefined();
      await session.addItems([user('a'), user('b')]);
      await session.addItems([user('c')]);
      expect(texts([(await session.popItem())!, (await session.popItem())!])).toEqual(['user: c', 'user: b']);
      await session.popItem();
      expect(await session.popItem()).toBeUndefined();

      const batch = Array.from({ length: 12 }, (_, i) => user(`m${i}`));
      await session.addItems(batch.slice(0, 6));
      await session.addItems(batch.slice(6));
      const popped = await Promise.all(Array.from({ length: 16 }, () => session.popItem()));
      const got = texts(popped.filter((p): p is AgentInputItem => p !== undefined));
      expect(got).toHaveLength(12);
      expect(new Set(got).size).toBe(12);
      expect(await session.getItems(100)).toEqual([]);
    });

    it('clearSession empties the session, which then starts again', async () => {
      const { session } = await fresh();
      await session.addItems([user('old')]);
      await session.clearSession();
      expect(await runnerView(session)).toEqual([]);
      await session.addItems([user('new')]);
      expect(texts(await runnerView(session))).toEqual(['user: new']);
    });

    it('sessions are isolated by id and by agent', async () => {
      const store = await open();
      const id = `s-${randomUUID()}`;
      const a = new AgentSessionsSession({ store, agentId: 'sdk', sessionId: id });
      const b = new AgentSessionsSession({ store, agentId: 'sdk', sessionId: `${id}-other` });
      const c = new AgentSessionsSession({ store, agentId: 'other-agent', sessionId: id });
      await a.addItems([user('only a')]);
      expect(await b.getItems(10)).toEqual([]);
      expect(await c.getItems(10)).toEqual([]);
      expect(await c.popItem()).toBeUndefined();
      expect(texts(await a.getItems(10))).toEqual(['user: only a']);
    });

    it('objects passed in or handed out cannot change what is stored', async () => {
      const { session } = await fresh();
      const item = { type: 'message', role: 'user', content: 'kept' } as AgentInputItem & { content: string };
      await session.addItems([item]);
      item.content = 'changed after addItems';
      for (const read of [await session.getItems(), await session.getItems(1), await runnerView(session)]) {
        (read[0] as { content: string }).content = 'changed by a reader';
      }
      const popped = (await session.popItem()) as { content: string };
      expect(popped.content).toBe('kept');
    });

    it('values that are not JSON (Date, BigInt, a cycle) are refused before anything is written', async () => {
      const { store, session } = await fresh();
      const cyclic: Record<string, unknown> = { type: 'message', role: 'user' };
      cyclic.content = cyclic;
      for (const bad of [new Date(), 10n, cyclic]) {
        const items = [user('ok'), (bad === cyclic ? bad : { type: 'message', role: 'user', content: bad }) as AgentInputItem];
        await expect(session.addItems(items)).rejects.toMatchObject({ code: 'invalid_input' });
      }
      expect(await store.getSession({ agentId: 'sdk', sessionId: session.sessionId })).toBeNull();
    });

    it('the same script of history changes gives the same history as MemorySession, step by step', async () => {
      const { session } = await fresh();
      const mem = new MemorySession();
      const both = async (f: (s: Session & Partial<AgentSessionsSession>) => Promise<unknown>) => {
        const [ours, theirs] = [await f(session as never), await f(mem as never)];
        expect(ours, 'returned').toEqual(theirs);
        expect(await runnerView(session), 'history').toEqual(await mem.getItems());
      };
      await both((s) => s.addItems([user('q1'), call('c1', '{"city":"Oslo"}'), result('c1', 'cold')]));
      await both((s) => s.addItems([reply('Cold in Oslo.')]));
      await both((s) => s.applyHistoryTransaction!({ operationId: 'op1', transaction: { type: 'append_items', items: [user('q2')] } }));
      await both((s) => s.applyHistoryTransaction!({ operationId: 'op1', transaction: { type: 'append_items', items: [user('q2')] } }));
      await both((s) =>
        s.applyHistoryTransaction!({
          operationId: 'op2',
          transaction: { type: 'replace_suffix', expectedSuffix: [reply('Cold in Oslo.'), user('q2')], replacement: [reply('Oslo: cold.')] },
        }),
      );
      await both((s) => s.applyHistoryMutations!({ mutations: [{ type: 'replace_function_call', callId: 'c1', replacement: call('c1', '{"city":"Bergen"}') as never }] }));
      await both((s) => s.popItem());
      await both((s) => s.popItem());
      await both((s) => s.addItems([reply('again')]));
      await both((s) => s.getItems(2));
      // MemorySession has no replaceHistoryWithCompaction: the runner then clears and re-adds.
      await both(async (s) => {
        const items = [compaction('1'), reply('after compaction')];
        if (s.replaceHistoryWithCompaction) return s.replaceHistoryWithCompaction(items);
        await s.clearSession();
        return s.addItems(items);
      });
      await both((s) => s.getItems(5));
      await both((s) => s.addItems([user('q3')]));
      await both((s) => s.popItem());
      await both((s) => s.popItem());
      await both((s) => s.popItem());
      await both((s) => s.popItem());
    });

    it('a transaction is idempotent by operation id; another transaction under that id, or a stale suffix, fails and writes nothing', async () => {
      const { store, session } = await fresh();
      const ref = { agentId: 'sdk', sessionId: session.sessionId };
      await session.addItems([user('q'), reply('draft')]);
      const replace = { type: 'replace_suffix' as const, expectedSuffix: [reply('draft')], replacement: [reply('final')] };
      await session.applyHistoryTransaction({ operationId: 'r1', transaction: replace });
      await session.applyHistoryTransaction({ operationId: 'r1', transaction: replace });
      expect(texts(await runnerView(session))).toEqual(['user: q', 'assistant: final']);
      const seq = (await store.getSession(ref))!.lastSeq;
      await expect(
        session.applyHistoryTransaction({ operationId: 'r1', transaction: { type: 'append_items', items: [user('x')] } }),
      ).rejects.toMatchObject({ code: 'conflict' });
      await expect(
        session.applyHistoryTransaction({ operationId: 'r2', transaction: { ...replace, expectedSuffix: [reply('draft')] } }),
      ).rejects.toMatchObject({ code: 'conflict' });
      expect((await store.getSession(ref))!.lastSeq).toBe(seq);
      expect(texts(await runnerView(session))).toEqual(['user: q', 'assistant: final']);

      // Two replacements of the same suffix at once: exactly one lands.
      const race = await Promise.allSettled(
        ['a', 'b'].map((tag) =>
          session.applyHistoryTransaction({
            operationId: `race-${tag}`,
            transaction: { type: 'replace_suffix', expectedSuffix: [reply('final')], replacement: [reply(`winner ${tag}`)] },
          }),
        ),
      );
      expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(race.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'conflict' } });
      expect(await runnerView(session)).toHaveLength(2);
    });
  });

  describe(`${name}: run(agent, input, { session }) with the SDK's runner`, () => {
    const weather = tool({
      name: 'weather',
      description: 'Weather for a city',
      parameters: z.object({ city: z.string() }),
      execute: async ({ city }) => `sunny in ${city}`,
    });

    it('the model is sent the window while the runner sees everything stored', async () => {
      const { session } = await fresh();
      const model = new ScriptedModel(Array.from({ length: 13 }, (_, i) => [assistantMessage(`a${i}`)]));
      const agent = new Agent({ name: 'w', model });
      for (let i = 0; i < 13; i++) await run(agent, `q${i}`, { session });
      const last = requestInputs(model)[12]!;
      // The last 10 runs (q2..a11) and the new input: 21 items, not 25.
      expect(last).toHaveLength(21);
      expect(texts(last)[0]).toBe('user: q2');
      const all = await runnerView(session);
      expect(all).toHaveLength(26);
      expect(texts(all)[0]).toBe('user: q0');
    });

    it('a call waiting for approval stays in what the runner sees, never in what the model is sent', async () => {
      const { session } = await fresh();
      const wipe = tool({ name: 'wipe', description: 'wipe', parameters: z.object({}), needsApproval: true, execute: async () => 'wiped' });
      const model = new ScriptedModel([[functionCall('wipe', {}, { callId: 'w1' })], [assistantMessage('unrelated')]]);
      const agent = new Agent({ name: 'a', model, tools: [wipe] });
      const first = await run(agent, 'wipe it', { session });
      expect(first.interruptions).toHaveLength(1);
      expect(types(await runnerView(session))).toEqual(['message', 'function_call']);
      expect(types(await session.getItems())).toEqual(['message']);
      await run(agent, 'something else', { session });
      expect(inputProblems(requestInputs(model)[1]!)).toEqual([]);
    });

    it('a resumed approval whose write outcome was unknown resumes: the tool runs once, its result is stored once', async () => {
      const base = await open();
      let failAfterWrite = false;
      // The append lands, then the caller is told it failed (a timeout after the commit).
      const flaky = new Proxy(base, {
        get(target, prop, receiver) {
          if (prop === 'appendRun') {
            return async (input: Parameters<SessionStore['appendRun']>[0]) => {
              const out = await target.appendRun(input);
              if (failAfterWrite) {
                failAfterWrite = false;
                throw Object.assign(new Error('connection reset after commit'), { code: 'ECONNRESET' });
              }
              return out;
            };
          }
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const session = new AgentSessionsSession({ store: flaky, agentId: 'sdk', sessionId: `s-${randomUUID()}` });
      // A full window of earlier turns, so a window-based view would also shift on append.
      for (let i = 0; i < 10; i++) await session.addItems([user(`old q${i}`), reply(`old a${i}`)]);
      let wipes = 0;
      const wipe = tool({ name: 'wipe', description: 'wipe', parameters: z.object({}), needsApproval: true, execute: async () => `wiped ${++wipes}` });
      const model = new ScriptedModel([[functionCall('wipe', {}, { callId: 'w1' })], [assistantMessage('Done.')]]);
      const agent = new Agent({ name: 'a', model, tools: [wipe] });
      const first = await run(agent, 'wipe it', { session });
      const state = first.state;
      state.approve(state.getInterruptions()[0]!);
      failAfterWrite = true;
      await expect(run(agent, state, { session })).rejects.toThrow(/connection reset after commit/);
      const resumed = await run(agent, state, { session });
      expect(resumed.finalOutput).toBe('Done.');
      expect(wipes).toBe(1);
      const stored = await runnerView(session);
      expect(types(stored).filter((t) => t === 'function_call_result')).toHaveLength(1);
      expect(types(stored).filter((t) => t === 'function_call')).toHaveLength(1);
    });

    it('server-side compaction: the compaction run is the replay boundary, earlier runs stay stored', async () => {
      const { store, session } = await fresh();
      const model = new ScriptedModel([
        [assistantMessage('a0')],
        [compaction('x') as never, assistantMessage('a1 after compaction')],
        [assistantMessage('a2')],
      ]);
      const agent = new Agent({ name: 'c', model, tools: [weather] });
      await run(agent, 'q0', { session });
      await run(agent, 'q1', { session });
      await run(agent, 'q2', { session });
      const seen = requestInputs(model)[2]!;
      expect(types(seen)).toEqual(['compaction', 'message', 'message']);
      expect(texts(seen)).toEqual(['assistant: a1 after compaction', 'user: q2']);
      expect(types(await runnerView(session))).toEqual(['compaction', 'message', 'message', 'message']);
      const runs = await store.listRuns({ agentId: 'sdk', sessionId: session.sessionId, limit: 10 });
      expect(runs.flatMap((r) => texts(r.items as AgentInputItem[]))).toContain('user: q0');
    });
  });

  describe(`${name}: withSessionStorage and the SDK's history hooks`, () => {
    it('a model output that starts with a compaction item is stored, and the next turn starts from it', async () => {
      const store = await open();
      const model = new ScriptedModel([
        [assistantMessage('a0')],
        [compaction('y') as never, assistantMessage('a1 compacted')],
        [assistantMessage('a2')],
      ]);
      const wrapped = withSessionStorage(new Agent({ name: 'wc', model }), { store });
      const first = await wrapped.run('q0');
      const { sessionId } = first;
      for (const stream of [false, true]) {
        if (stream) {
          const s = await wrapped.run('q2', { sessionId, stream: true });
          for await (const _ of s) void _;
          await s.completed;
        } else {
          await wrapped.run('q1', { sessionId });
        }
      }
      const runs = await store.listRuns({ agentId: 'wc', sessionId, limit: 10 });
      expect(runs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
      expect(types(runs[1]!.items)).toEqual(['compaction', 'message']);
      const seen = requestInputs(model)[2]!;
      expect(types(seen)).toEqual(['compaction', 'message', 'message']);
      expect(texts(seen)).toEqual(['assistant: a1 compacted', 'user: q2']);
    });

    it("the per-turn session applies the runner's transactions and mutations to the turn's items", async () => {
      const turn = new TurnSession('t', async () => [user('earlier')]);
      await turn.addItems([user('q'), call('c1'), result('c1', 'x'), reply('draft')]);
      const replace = { type: 'replace_suffix' as const, expectedSuffix: [reply('draft')], replacement: [reply('final')] };
      await turn.applyHistoryTransaction({ operationId: 'o', transaction: replace });
      await turn.applyHistoryTransaction({ operationId: 'o', transaction: replace });
      await expect(turn.applyHistoryTransaction({ operationId: 'o', transaction: { type: 'append_items', items: [] } })).rejects.toMatchObject({
        code: 'conflict',
      });
      // The window belongs to stored runs: a suffix reaching into it cannot be replaced by this turn.
      await expect(
        turn.applyHistoryTransaction({ operationId: 'p', transaction: { type: 'replace_suffix', expectedSuffix: [user('earlier'), user('q')], replacement: [] } }),
      ).rejects.toMatchObject({ code: 'conflict' });
      await turn.applyHistoryMutations({ mutations: [{ type: 'replace_function_call', callId: 'c1', replacement: call('c1', '{"v":2}') as never }] });
      expect(await turn.getItems()).toEqual([user('earlier'), user('q'), call('c1', '{"v":2}'), result('c1', 'x'), reply('final')]);
      await turn.replaceHistoryWithCompaction([compaction('z'), reply('kept')]);
      expect(types(await turn.getItems())).toEqual(['compaction', 'message']);
    });
  });
}

export const memoryStore = async (): Promise<SessionStore> => new MemoryStore();
export { RunState };
