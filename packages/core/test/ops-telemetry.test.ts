import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as api from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AgentSessionsError, MemoryStore } from '@agent-sessions/core';
import { StoreOps } from '../src/ops/store-ops.js';
import { ATTR, METRIC, setOtelApiForTests, withTurnSpan } from '../src/ops/telemetry.js';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(tracerProvider);
  api.metrics.setGlobalMeterProvider(meterProvider);
});

afterEach(() => {
  exporter.reset();
  setOtelApiForTests(undefined);
});

async function metric(name: string) {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
}

const server = () => ({ address: 'db.internal', port: 5432, namespace: 'public' });

describe('store spans', () => {
  it('a call gets one CLIENT span with the database attributes and ours, and no content', async () => {
    const ops = new StoreOps({}, 'postgres');
    const out = await ops.run('appendRun', 'agent-7', server, async (rec) => {
      expect(rec.recording).toBe(true);
      rec.set({ [ATTR.itemCount]: 2, [ATTR.runCount]: 1, [ATTR.bytes]: 120 });
      return 'ok';
    });
    expect(out).toBe('ok');
    const [span] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span!.name).toBe('appendRun public');
    expect(span!.kind).toBe(api.SpanKind.CLIENT);
    expect(span!.instrumentationScope.name).toBe('@agent-sessions/core');
    expect(span!.attributes).toMatchObject({
      'db.system': 'postgresql',
      'db.system.name': 'postgresql',
      'db.operation.name': 'appendRun',
      'db.namespace': 'public',
      'server.address': 'db.internal',
      'server.port': 5432,
      [ATTR.agentId]: 'agent-7',
      [ATTR.itemCount]: 2,
      [ATTR.runCount]: 1,
      [ATTR.bytes]: 120,
    });
    expect(span!.status.code).toBe(api.SpanStatusCode.UNSET);
  });

  it('a failure sets error.type to the code and the status to ERROR with the code only', async () => {
    const ops = new StoreOps({}, 'redis');
    const err = new AgentSessionsError('unavailable', 'appendRun failed: connect ECONNREFUSED redis://u:hunter2@10.0.0.1', { source: 'redis' });
    await expect(ops.run('appendRun', 'a', () => undefined, async () => Promise.reject(err))).rejects.toBe(err);
    const [span] = exporter.getFinishedSpans();
    expect(span!.attributes['error.type']).toBe('unavailable');
    expect(span!.attributes['db.system']).toBe('redis');
    expect(span!.status).toEqual({ code: api.SpanStatusCode.ERROR, message: 'unavailable' });
    expect(JSON.stringify(span!.attributes) + JSON.stringify(span!.events)).not.toContain('hunter2');
    expect(span!.name).toBe('appendRun');
  });

  it('a store call inside a turn span is its child; memory reports db.system other', async () => {
    const ops = new StoreOps({}, 'memory');
    await withTurnSpan('turn test', { framework: 'test', agentId: 'a1' }, async (turn) => {
      await ops.run('readHistory', 'a1', () => undefined, async () => null);
      await ops.run('appendRun', 'a1', () => undefined, async () => null);
      turn.set({ [ATTR.itemCount]: 3 });
    });
    const spans = exporter.getFinishedSpans();
    const turn = spans.find((s) => s.name === 'turn test')!;
    const children = spans.filter((s) => s !== turn);
    expect(children.map((s) => s.name)).toEqual(['readHistory', 'appendRun']);
    for (const c of children) {
      expect(c.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
      expect(c.spanContext().traceId).toBe(turn.spanContext().traceId);
      expect(c.attributes['db.system']).toBe('other');
    }
    expect(turn.kind).toBe(api.SpanKind.INTERNAL);
    expect(turn.attributes).toMatchObject({ [ATTR.framework]: 'test', [ATTR.agentId]: 'a1', [ATTR.itemCount]: 3 });
  });

  it('a failing turn span ends with ERROR and the error code', async () => {
    await expect(
      withTurnSpan('turn t', {}, async () => {
        throw new AgentSessionsError('conflict', 'stale');
      }),
    ).rejects.toThrow(/stale/);
    const [span] = exporter.getFinishedSpans();
    expect(span!.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('conflict');
  });

  it('telemetry: false and an absent @opentelemetry/api make no span and still run the call', async () => {
    const off = new StoreOps({ telemetry: false }, 'memory');
    expect(await off.run('getSession', 'a', () => undefined, async (rec) => (rec.recording ? 'rec' : 'plain'))).toBe('plain');
    setOtelApiForTests(null);
    const absent = new StoreOps({}, 'memory');
    expect(await absent.run('getSession', 'a', () => undefined, async (rec) => (rec.recording ? 'rec' : 'plain'))).toBe('plain');
    expect(await withTurnSpan('turn', {}, async (rec) => (rec.recording ? 'rec' : 'plain'))).toBe('plain');
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('providers given in the option are used instead of the global ones', async () => {
    const own = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] });
    const ops = new StoreOps({ telemetry: { tracerProvider: provider } }, 'mongodb');
    await ops.run('listRuns', 'a', () => undefined, async () => null);
    expect(own.getFinishedSpans().map((s) => s.attributes['db.system'])).toEqual(['mongodb']);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('store metrics', () => {
  it('records every call in the duration histogram (seconds) and failures by code in the counter', async () => {
    const ops = new StoreOps({}, 'postgres');
    await ops.run('getSession', 'a', server, async () => null);
    await ops.run('getSession', 'a', server, async () => null);
    for (const code of ['unavailable', 'unavailable', 'conflict'] as const) {
      await ops.run('appendRun', 'a', server, async () => Promise.reject(new AgentSessionsError(code, 'x'))).catch(() => {});
    }
    const duration = (await metric(METRIC.duration)) as HistogramMetricData;
    expect(duration.descriptor.unit).toBe('s');
    const reads = duration.dataPoints.find((p) => p.attributes['db.operation.name'] === 'getSession' && p.attributes['error.type'] === undefined)!;
    expect(reads.value.count).toBeGreaterThanOrEqual(2);
    expect(reads.attributes).toMatchObject({ 'db.system': 'postgresql', 'server.address': 'db.internal', 'server.port': 5432 });
    expect(reads.value.sum).toBeLessThan(1);
    const failures = (await metric(METRIC.failures)) as SumMetricData;
    const byCode = (code: string) =>
      failures.dataPoints
        .filter((p) => p.attributes['error.type'] === code && p.attributes['db.operation.name'] === 'appendRun' && p.attributes['db.system'] === 'postgresql')
        .reduce((n, p) => n + p.value, 0);
    expect(byCode('unavailable')).toBe(2);
    expect(byCode('conflict')).toBe(1);
    // Agent ids are span attributes only: metric attributes stay low-cardinality.
    expect(failures.dataPoints.every((p) => p.attributes[ATTR.agentId] === undefined)).toBe(true);
  });
});

describe('logger', () => {
  function recorder() {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const log = (level: string) => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
    return { lines, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } };
  }

  it('logs an operator-facing failure at warn with the code and the masked reason; a caller-facing one at debug without it', async () => {
    const { lines, logger } = recorder();
    const ops = new StoreOps({ logger, telemetry: false }, 'redis');
    const down = new AgentSessionsError('unavailable', 'connect ECONNREFUSED redis://user:hunter2@10.0.0.1:6379 password=hunter2', { source: 'redis' });
    await ops.run('appendRun', 'a1', () => undefined, async () => Promise.reject(down)).catch(() => {});
    const bad = new AgentSessionsError('invalid_input', "items[0].content is 'my secret content'", { source: 'redis' });
    await ops.run('appendRun', 'a1', () => undefined, async () => Promise.reject(bad)).catch(() => {});
    await ops.run('getSession', 'a1', () => undefined, async () => 'fine');
    expect(lines.map((l) => l.level)).toEqual(['warn', 'debug']);
    expect(lines[0]!.message).toBe('[agent-sessions] [redis] appendRun failed: unavailable');
    expect(lines[0]!.fields).toMatchObject({ lib: 'agent-sessions', source: 'redis', op: 'appendRun', code: 'unavailable', agentId: 'a1' });
    expect(String(lines[0]!.fields.error)).toContain('ECONNREFUSED');
    const all = JSON.stringify(lines);
    expect(all).not.toContain('hunter2');
    expect(all).not.toContain('my secret content');
  });

  it('a logger that throws never fails the call; a logger without the four methods is refused', async () => {
    const throwing = { debug() {}, info() {}, warn: () => { throw new Error('log sink down'); }, error() {} };
    const ops = new StoreOps({ logger: throwing, telemetry: false }, 'memory');
    const err = new AgentSessionsError('internal', 'boom');
    await expect(ops.run('getSession', 'a', () => undefined, async () => Promise.reject(err))).rejects.toBe(err);
    expect(() => new StoreOps({ logger: { warn() {} } as never }, 'memory')).toThrow(/logger must have debug, info, warn and error/);
    // console has the four methods.
    expect(() => new StoreOps({ logger: console }, 'memory')).not.toThrow();
  });
});

describe('through a store (MemoryStore)', () => {
  class Located extends MemoryStore {
    protected override serverInfo() {
      return { address: 'mem.local', port: 1, namespace: 'ns' };
    }
  }

  it('every public call is one span with its counts; a turn span nests the load and the save', async () => {
    const store = new Located();
    const ref = { agentId: 'agent-t', sessionId: 's1' };
    await withTurnSpan('turn test', { framework: 'test', agentId: ref.agentId }, async () => {
      await store.readHistory({ ...ref, limit: 10 });
      await store.appendRun({ ...ref, format: 't', items: [{ content: 'private words' }, 'x'] });
    });
    await store.listRuns({ ...ref, limit: 10 });
    const spans = exporter.getFinishedSpans();
    const turn = spans.find((s) => s.name === 'turn test')!;
    const load = spans.find((s) => s.name === 'readHistory ns')!;
    const save = spans.find((s) => s.name === 'appendRun ns')!;
    const list = spans.find((s) => s.name === 'listRuns ns')!;
    expect(load.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(save.parentSpanContext?.spanId).toBe(turn.spanContext().spanId);
    expect(list.parentSpanContext).toBeUndefined();
    expect(save.attributes).toMatchObject({
      'db.system': 'other',
      'db.operation.name': 'appendRun',
      'server.address': 'mem.local',
      'server.port': 1,
      [ATTR.agentId]: 'agent-t',
      [ATTR.itemCount]: 2,
      [ATTR.runCount]: 1,
      [ATTR.encrypted]: false,
    });
    expect(save.attributes[ATTR.bytes]).toBe(JSON.stringify([{ content: 'private words' }, 'x']).length);
    expect(list.attributes).toMatchObject({ [ATTR.runCount]: 1, [ATTR.itemCount]: 2 });
    // No session id, no content anywhere in what was exported.
    const exported = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })));
    expect(exported).not.toContain('private words');
    expect(exported).not.toContain('s1');
  });

  it('a failed store call: span status ERROR with the code, counted, logged at the right level', async () => {
    const lines: string[] = [];
    const log = (level: string) => (_f: unknown, m: string) => lines.push(`${level} ${m}`);
    const store = new MemoryStore({ logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } });
    const ref = { agentId: 'agent-f', sessionId: 's' };
    await expect(store.updateSession({ ...ref, expectedVersion: 1, state: {} })).rejects.toMatchObject({ code: 'not_found' });
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('updateSession');
    expect(span!.attributes['error.type']).toBe('not_found');
    expect(span!.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(lines).toEqual(['debug [agent-sessions] [memory] updateSession failed: not_found']);
  });

  it('with encryption the span reports the sealed size and encrypted: true', async () => {
    const store = new MemoryStore({ encryption: 'a'.repeat(64) });
    await store.appendRun({ agentId: 'a', sessionId: 's', format: 't', items: ['x'] });
    const [span] = exporter.getFinishedSpans();
    expect(span!.attributes[ATTR.encrypted]).toBe(true);
    expect(span!.attributes[ATTR.bytes]).toBeGreaterThan(40);
  });

  it('without @opentelemetry/api (or with telemetry: false) a store makes no span and works', async () => {
    setOtelApiForTests(null);
    const store = new MemoryStore();
    await store.appendRun({ agentId: 'a', sessionId: 's', format: 't', items: ['x'] });
    setOtelApiForTests(undefined);
    const off = new MemoryStore({ telemetry: false });
    await off.appendRun({ agentId: 'a', sessionId: 's', format: 't', items: ['x'] });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(() => new MemoryStore({ telemetry: 'yes' as never })).toThrow(/telemetry must be/);
  });
});
