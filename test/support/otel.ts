import { createRequire } from 'node:module';
import type { Logger } from '@agent-sessions/core';
// Types only (erased at run time): the OpenTelemetry packages are core's dev dependencies, and
// the adapter packages do not list them, so they are loaded from core's install.
import type * as Api from '../../packages/core/node_modules/@opentelemetry/api';
import type * as ContextHooks from '../../packages/core/node_modules/@opentelemetry/context-async-hooks';
import type * as TraceBase from '../../packages/core/node_modules/@opentelemetry/sdk-trace-base';

const fromCore = createRequire(new URL('../../packages/core/package.json', import.meta.url));
export const api = fromCore('@opentelemetry/api') as typeof Api;
const { AsyncLocalStorageContextManager } = fromCore('@opentelemetry/context-async-hooks') as typeof ContextHooks;
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = fromCore('@opentelemetry/sdk-trace-base') as typeof TraceBase;

export type FinishedSpan = TraceBase.ReadableSpan;

/**
 * An in-memory exporter behind the global tracer provider, with async context propagation
 * (so a store call's span finds the turn span it runs under), as core's ops tests set it up.
 */
export function memoryTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(provider);
  return { exporter, provider };
}

/** The spans under `parent` (direct children), in the order they ended. */
export function childrenOf(spans: readonly FinishedSpan[], parent: FinishedSpan): FinishedSpan[] {
  return spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
}

/** A logger that keeps every call, as pino would receive it: (fields, message). */
export function recordingLogger() {
  const records: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => records.push({ level, fields, message });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, records };
}
