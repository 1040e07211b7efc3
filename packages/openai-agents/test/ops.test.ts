import { randomUUID } from 'node:crypto';
import { MemoryStore, type Logger } from '@agent-sessions/core';
import { ATTR, RESUME_LEASE_MS, RESUME_STATE_KEY } from '@agent-sessions/core/adapter';
import { AgentSessionsSession, withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, run, tool } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import './helpers.js';
import { api, childrenOf, memoryTracing, recordingLogger } from '../../../test/support/otel.js';

// Issue 18 on the wrapper: one span per turn with the store's calls under it, and the wrapper's
// warnings through its `logger` option (ids and counts, never content).

const sid = (label: string) => `${label}-${randomUUID()}`;
let tracing: ReturnType<typeof memoryTracing>;
beforeAll(() => {
  tracing = memoryTracing();
});
afterEach(() => tracing.exporter.reset());

function chatAgent(name: string, answers: string[]) {
  const model = new ScriptedModel(answers.map((a) => [assistantMessage(a)]));
  return new Agent({ name, instructions: 'Be brief.', model });
}

describe('turn spans (OpenAI Agents wrapper, memory store)', () => {
  it('a wrapped turn is one INTERNAL span with the store calls (readHistory, appendRun) as its children', async () => {
    const store = new MemoryStore();
    const wrapped = withSessionStorage(chatAgent('traced', ['Hello Ada', 'Ada']), { store });
    const first = await wrapped.run('I am Ada');
    tracing.exporter.reset();
    await wrapped.run('Who am I?', { sessionId: first.sessionId });

    const spans = tracing.exporter.getFinishedSpans();
    const turns = spans.filter((s) => s.name === 'turn openai-agents');
    expect(turns).toHaveLength(1);
    const turn = turns[0]!;
    expect(turn.kind).toBe(api.SpanKind.INTERNAL);
    expect(turn.parentSpanContext).toBeUndefined();
    expect(turn.attributes).toMatchObject({
      [ATTR.framework]: 'openai-agents',
      [ATTR.agentId]: 'traced',
      [ATTR.runCount]: 1,
      [ATTR.itemCount]: 2,
      'agent_sessions.run.status': 'completed',
    });
    const children = childrenOf(spans, turn);
    expect(children.map((s) => s.name)).toEqual(['readHistory', 'appendRun']);
    for (const c of children) {
      expect(c.kind).toBe(api.SpanKind.CLIENT);
      expect(c.spanContext().traceId).toBe(turn.spanContext().traceId);
    }
    // Ids and counts only: no content on any span.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/Ada|Who am I/);
  });

  it('a streamed turn: the span ends only once the stream is finished and stored, the append under it', async () => {
    const store = new MemoryStore();
    const wrapped = withSessionStorage(chatAgent('streamed', ['Streamed answer']), { store });
    const streamed = await wrapped.run('Tell me', { stream: true });
    expect(tracing.exporter.getFinishedSpans().filter((s) => s.name === 'turn openai-agents')).toHaveLength(0);
    for await (const _ of streamed) void _;
    await streamed.completed;
    const spans = tracing.exporter.getFinishedSpans();
    const turn = spans.find((s) => s.name === 'turn openai-agents')!;
    expect(turn.attributes).toMatchObject({ 'agent_sessions.turn.stream': true, [ATTR.itemCount]: 2 });
    expect(childrenOf(spans, turn).map((s) => s.name)).toEqual(['readHistory', 'appendRun']);
    // The append is the last thing in the turn: it ended before the turn span did (the exporter
    // gets spans as they end; span timestamps carry a per-span millisecond offset, so not those).
    const append = childrenOf(spans, turn).find((s) => s.name === 'appendRun')!;
    expect(spans.indexOf(append)).toBeLessThan(spans.indexOf(turn));
  });

  it('a failing turn ends its span with ERROR; telemetry: false makes no turn span (the store still traces its calls)', async () => {
    const store = new MemoryStore();
    const broken = new Agent({ name: 'broken', model: new ScriptedModel([]) });
    await expect(withSessionStorage(broken, { store }).run('hi')).rejects.toThrow();
    const failed = tracing.exporter.getFinishedSpans().find((s) => s.name === 'turn openai-agents')!;
    expect(failed.status.code).toBe(api.SpanStatusCode.ERROR);
    // The failed run is still recorded, under the turn.
    expect(childrenOf(tracing.exporter.getFinishedSpans(), failed).map((s) => s.name)).toContain('appendRun');

    tracing.exporter.reset();
    await withSessionStorage(chatAgent('off', ['ok']), { store, telemetry: false }).run('hi');
    const spans = tracing.exporter.getFinishedSpans();
    expect(spans.some((s) => s.name.startsWith('turn'))).toBe(false);
    expect(spans.map((s) => s.name)).toEqual(['readHistory', 'appendRun']);
  });
});

describe('the wrapper logger (OpenAI Agents)', () => {
  it("a failing summarizer is logged through the wrapper's logger, with ids only", async () => {
    const store = new MemoryStore();
    const { logger, records } = recordingLogger();
    const wrapped = withSessionStorage(chatAgent('sumlog', ['a1', 'a2']), {
      store,
      logger,
      window: { lastRuns: 1 },
      summary: { summarizer: async () => Promise.reject(new Error('model down: secret-content')), await: true },
    });
    const first = await wrapped.run('My secret is 42');
    await wrapped.run('next', { sessionId: first.sessionId });
    const warn = records.find((r) => r.message.includes('session summary not updated'))!;
    expect(warn.level).toBe('warn');
    expect(warn.fields).toMatchObject({ lib: 'agent-sessions', source: 'openai-agents', agentId: 'sumlog', sessionId: first.sessionId, stage: 'summarizer' });
    expect(JSON.stringify(records)).not.toMatch(/secret/);
  });

  it('a window cut that leaves items out is a warning with the count; a logger without warn is refused', async () => {
    const store = new MemoryStore();
    const { logger, records } = recordingLogger();
    const wrapped = withSessionStorage(chatAgent('cut', ['one', 'two']), { store, logger, window: { maxItems: 1 } });
    const first = await wrapped.run('first question');
    expect(records).toHaveLength(0);
    await wrapped.run('second question', { sessionId: first.sessionId });
    expect(records).toHaveLength(1);
    expect(records[0]!.level).toBe('warn');
    expect(records[0]!.fields).toMatchObject({ agentId: 'cut', sessionId: first.sessionId, dropped: 1, kept: 1 });
    expect(JSON.stringify(records)).not.toMatch(/question|one|two/);
    expect(() => withSessionStorage(chatAgent('x', []), { store, logger: { info() {} } as unknown as Logger })).toThrow(/logger must have/);
  });

  it("the native Session logs its window cuts through its own logger", async () => {
    const store = new MemoryStore();
    const { logger, records } = recordingLogger();
    const session = new AgentSessionsSession({ store, agentId: 'native-log', logger, window: { maxItems: 1 } });
    await run(chatAgent('native-log', ['first answer']), 'first question', { session });
    await session.getItems();
    expect(records.map((r) => [r.level, r.fields.dropped])).toEqual([['warn', 1]]);
  });

  it('a resume that takes over an expired claim (its resume never stored a run) is a warning', async () => {
    const store = new MemoryStore();
    const { logger, records } = recordingLogger();
    const wipe = tool({ name: 'wipe', description: 'Deletes a path', parameters: z.object({ path: z.string() }), needsApproval: true, execute: async () => 'deleted' });
    const model = new ScriptedModel([[functionCall('wipe', { path: '/tmp/x' }, { callId: 'w1' })], [assistantMessage('Wiped.')]]);
    const wrapped = withSessionStorage(new Agent({ name: 'takeover', model, tools: [wipe] }), { store, logger });
    const sessionId = sid('takeover');
    const paused = await wrapped.run('Wipe /tmp/x', { sessionId });
    // A resume that claimed the run and died before storing anything, longer ago than the lease.
    const header = (await store.getSession({ agentId: 'takeover', sessionId }))!;
    const interrupted = (await store.listRuns({ agentId: 'takeover', sessionId, limit: 1 }))[0]!;
    const stale = { [interrupted.runId]: { runId: 'run_dead', at: Date.now() - RESUME_LEASE_MS - 1000 } };
    await store.updateSession({ agentId: 'takeover', sessionId, expectedVersion: header.version, state: { ...header.state, [RESUME_STATE_KEY]: stale } });
    paused.state.approve(paused.interruptions[0]!);
    expect(records).toHaveLength(0);
    const resumed = await wrapped.run(paused.state, { sessionId });
    expect(resumed.finalOutput).toBe('Wiped.');
    const warn = records.find((r) => r.message.includes('resume claim taken over'))!;
    expect(warn.fields).toMatchObject({ agentId: 'takeover', sessionId, interruptedRunId: interrupted.runId, previousResumeRunId: 'run_dead' });
  });
});
