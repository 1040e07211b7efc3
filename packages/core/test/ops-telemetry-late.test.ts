import { afterAll, describe, expect, it, vi } from 'vitest';
import * as api from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { StoreOps } from '../src/ops/store-ops.js';
import { METRIC } from '../src/ops/telemetry.js';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

afterAll(() => {
  api.trace.disable();
  api.metrics.disable();
});

describe('telemetry with the API installed and no SDK', () => {
  it('a call starts no span while nothing records, and an SDK registered later is used from the next call', async () => {
    api.trace.disable();
    api.metrics.disable();
    const ops = new StoreOps({}, 'postgres');
    const startSpan = vi.spyOn(api.ProxyTracer.prototype, 'startSpan');
    expect(await ops.run('appendRun', 'a', () => undefined, async (rec) => (rec.recording ? 'rec' : 'plain'))).toBe('plain');
    expect(startSpan).not.toHaveBeenCalled();
    startSpan.mockRestore();

    // Tracing only: spans from the next call on.
    const exporter = new InMemorySpanExporter();
    api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    expect(await ops.run('appendRun', 'a', () => undefined, async (rec) => (rec.recording ? 'rec' : 'plain'))).toBe('rec');
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['appendRun']);

    // Metrics only (tracing gone again): the call is measured.
    api.trace.disable();
    const reader = new TestReader();
    api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    await ops.run('listRuns', 'a', () => undefined, async () => null);
    const { resourceMetrics } = await reader.collect();
    const duration = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === METRIC.duration);
    expect(duration?.dataPoints).toHaveLength(1);
  });
});
