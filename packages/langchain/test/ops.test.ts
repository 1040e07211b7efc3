import { MemoryStore, type Logger } from '@agent-sessions/core';
import { ATTR } from '@agent-sessions/core/adapter';
import { sessionStorageMiddleware, withSessionStorage } from '@agent-sessions/langchain';
import { HumanMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createAgent } from 'langchain';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answering, getWeather, weatherModel } from './helpers.js';
import { api, childrenOf, memoryTracing, recordingLogger, type FinishedSpan } from '../../../test/support/otel.js';

// Issue 18 on the LangChain wrapper and middleware: one span per turn with the store's calls
// under it, and the wrapper's warnings through its `logger` option (ids and counts, never content).

const session = (sessionId: string) => ({ configurable: { sessionId } });
let tracing: ReturnType<typeof memoryTracing>;
beforeAll(() => {
  tracing = memoryTracing();
});
afterEach(() => tracing.exporter.reset());

const turnsOf = (spans: readonly FinishedSpan[]) => spans.filter((s) => s.name === 'turn langchain');
const storeCalls = (spans: readonly FinishedSpan[], turn: FinishedSpan) =>
  childrenOf(spans, turn)
    .filter((s) => s.attributes['db.operation.name'] !== undefined)
    .map((s) => s.name);

describe('turn spans (LangChain, memory store)', () => {
  it('wrapper invoke: one INTERNAL span per turn, readHistory and appendRun its children, no content', async () => {
    const store = new MemoryStore();
    const chat = withSessionStorage(answering('Hello Ada.'), { store, agentId: 'lc-traced' });
    await chat.invoke('I am Ada.', session('t1'));
    const spans = tracing.exporter.getFinishedSpans();
    const [turn, ...others] = turnsOf(spans);
    expect(others).toHaveLength(0);
    expect(turn!.kind).toBe(api.SpanKind.INTERNAL);
    expect(turn!.attributes).toMatchObject({ [ATTR.framework]: 'langchain', [ATTR.agentId]: 'lc-traced', [ATTR.itemCount]: 2, 'agent_sessions.run.status': 'completed' });
    expect(storeCalls(spans, turn!)).toEqual(['readHistory', 'appendRun']);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/Ada/);
  });

  it('wrapper stream: the span ends once the stream is read and stored, with the append under it', async () => {
    const store = new MemoryStore();
    const chat = withSessionStorage(answering('Streamed answer.'), { store });
    const stream = await chat.stream('Stream please.', session('t2'));
    const chunks: string[] = [];
    let openWhileReading = true;
    for await (const chunk of stream) {
      chunks.push(String(chunk.content));
      openWhileReading &&= turnsOf(tracing.exporter.getFinishedSpans()).length === 0;
    }
    expect(chunks.join('')).toBe('Streamed answer.');
    expect(openWhileReading).toBe(true);
    const spans = tracing.exporter.getFinishedSpans();
    const [turn] = turnsOf(spans);
    expect(turn!.attributes).toMatchObject({ 'agent_sessions.turn.stream': true, [ATTR.itemCount]: 2 });
    expect(storeCalls(spans, turn!)).toEqual(['readHistory', 'appendRun']);
  });

  it('middleware: the span opened in beforeAgent and ended in afterAgent holds both store calls', async () => {
    const store = new MemoryStore();
    const model = weatherModel('Lagos', 'Hot in Lagos.');
    const agent = createAgent({ model, tools: [getWeather], middleware: [sessionStorageMiddleware({ store, agentId: 'mw' })] });
    await agent.invoke({ messages: [new HumanMessage('Weather in Lagos?')] }, session('t3'));
    const spans = tracing.exporter.getFinishedSpans();
    const [turn, ...others] = turnsOf(spans);
    expect(others).toHaveLength(0);
    expect(turn!.attributes).toMatchObject({ [ATTR.framework]: 'langchain', [ATTR.agentId]: 'mw', 'agent_sessions.turn.middleware': true, [ATTR.itemCount]: 4 });
    expect(storeCalls(spans, turn!)).toEqual(['readHistory', 'appendRun']);
  });

  it('middleware: a model failure ends the span with ERROR, the failed run recorded under it; telemetry: false makes none', async () => {
    const store = new MemoryStore();
    const agent = createAgent({ model: fakeModel().respond(new Error('quota exceeded')), tools: [], middleware: [sessionStorageMiddleware({ store })] });
    await expect(agent.invoke({ messages: [new HumanMessage('One.')] }, session('t4'))).rejects.toThrow('quota exceeded');
    const spans = tracing.exporter.getFinishedSpans();
    const [turn] = turnsOf(spans);
    expect(turn!.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(storeCalls(spans, turn!)).toEqual(['readHistory', 'appendRun']);

    tracing.exporter.reset();
    const off = withSessionStorage(answering('ok'), { store, telemetry: false });
    await off.invoke('hi', session('t5'));
    expect(turnsOf(tracing.exporter.getFinishedSpans())).toHaveLength(0);
  });
});

describe('the wrapper logger (LangChain)', () => {
  it("a failing summarizer and a window cut are warnings through the wrapper's logger, ids and counts only", async () => {
    const store = new MemoryStore();
    const { logger, records } = recordingLogger();
    const model = answering('First answer.', 'Second answer.');
    const chat = withSessionStorage(model, {
      store,
      logger,
      window: { lastRuns: 1, maxItems: 1 },
      summary: { summarizer: async () => Promise.reject(new Error('down: secret')), await: true },
    });
    await chat.invoke('My secret is 42.', session('l1'));
    expect(records).toHaveLength(0);
    await chat.invoke('Second question.', session('l1'));
    expect(records.map((r) => [r.level, r.message.replace(/:.*/s, '')])).toEqual([
      ['warn', '[agent-sessions] [langchain] the window left out 1 history item(s) (window limits or tool-call pair repair)'],
      ['warn', '[agent-sessions] [langchain] session summary not updated; retried on a later turn'],
    ]);
    expect(records[0]!.fields).toMatchObject({ agentId: 'default', sessionId: 'l1', dropped: 1, kept: 1 });
    expect(records[1]!.fields).toMatchObject({ agentId: 'default', sessionId: 'l1', stage: 'summarizer' });
    expect(JSON.stringify(records)).not.toMatch(/secret|answer|question/i);
    expect(() => withSessionStorage(model, { store, logger: {} as Logger })).toThrow(/logger must have/);
  });
});
