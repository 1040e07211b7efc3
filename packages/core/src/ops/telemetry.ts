import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as OtelApi from '@opentelemetry/api';
import { isAgentSessionsError } from '../errors.js';
import type { CallRecorder, ServerInfo, TelemetryOption, TurnSpanAttributes } from './telemetry-types.js';

export type { CallRecorder, MeterProviderLike, ServerInfo, TelemetryOption, TracerProviderLike, TurnSpanAttributes } from './telemetry-types.js';

// OpenTelemetry, when the application installed `@opentelemetry/api` (an optional peer). It is
// loaded once, on the first instrumented call, through a variable specifier so that bundlers do
// not require it; without it every instrumented call costs one branch.

type Api = typeof OtelApi;


/** The instrumentation scope of every span and instrument. */
export const INSTRUMENTATION_NAME = '@agent-sessions/core';
const INSTRUMENTATION_VERSION = '0.1.0';

/** Names of our own attributes (the standard ones follow the OTel database conventions). */
export const ATTR = {
  agentId: 'agent_sessions.agent.id',
  runCount: 'agent_sessions.run.count',
  itemCount: 'agent_sessions.item.count',
  bytes: 'agent_sessions.bytes',
  encrypted: 'agent_sessions.encrypted',
  store: 'agent_sessions.store',
  framework: 'agent_sessions.framework',
} as const;

/** The latency histogram (seconds, the OTel database convention) and the failure counter. */
export const METRIC = {
  duration: 'db.client.operation.duration',
  failures: 'agent_sessions.client.operation.failures',
} as const;

let loaded: Api | null | undefined;
let loading: Promise<Api | null> | undefined;
let forced: Api | null | undefined;

const isNotFound = (err: unknown): boolean => {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
};

async function importApi(): Promise<Api | null> {
  const specifier = '@opentelemetry/api';
  try {
    return normalize(await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier));
  } catch (err) {
    if (!isNotFound(err)) return null;
  }
  // Under pnpm's strict layout core may not see the application's copy: resolve it from there.
  try {
    const req = createRequire(join(process.cwd(), 'package.json'));
    const manifest = req.resolve(`${specifier}/package.json`);
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { module?: string; main?: string };
    return normalize(await import(pathToFileURL(join(dirname(manifest), pkg.module ?? pkg.main ?? 'index.js')).href));
  } catch {
    return null;
  }
}

function normalize(mod: unknown): Api | null {
  const m = mod as Partial<Api> & { default?: Partial<Api> };
  const api = m.trace && m.context ? m : m.default;
  return api?.trace && api.context && api.metrics ? (api as Api) : null;
}

/** The OpenTelemetry API if it is installed: synchronously once loaded, else a promise (first call only). */
export function otelApi(): Api | null | Promise<Api | null> {
  if (forced !== undefined) return forced;
  if (loaded !== undefined) return loaded;
  loading ??= importApi().then((api) => {
    loaded = api;
    return api;
  });
  return loading;
}

/**
 * For tests: behave as if `@opentelemetry/api` were absent (`null`), or use this module;
 * `undefined` restores the lookup.
 */
export function setOtelApiForTests(api: Api | null | undefined): void {
  forced = api;
}


export const NO_RECORDER: CallRecorder = { recording: false, set() {} };


/** `db.system` (and `db.system.name`) for a store name. */
export function dbSystem(storeName: string): string {
  switch (storeName) {
    case 'postgres':
    case 'pglite':
      return 'postgresql';
    case 'redis':
      return 'redis';
    case 'mongodb':
      return 'mongodb';
    default:
      return 'other';
  }
}

interface Instruments {
  api: Api;
  store: string;
  system: string;
  tracer: OtelApi.Tracer;
  tracerProvider: unknown;
  meterProvider: unknown;
  duration: OtelApi.Histogram;
  failures: OtelApi.Counter;
  /** The meter is the API's no-op one: no meter provider is registered. */
  noopMeter: boolean;
  /** What the global tracer provider (a proxy) delegates to while no SDK has set one. */
  noopTracerProvider: unknown;
}

/**
 * True while nothing would record this call: the meter is the API's no-op one and the tracer
 * provider is the API's global proxy still delegating to its no-op provider (an SDK registered
 * later sets the delegate, which this sees on the next call). Then a call skips span, attributes
 * and context (a few microseconds each, on every call of an application that has the API
 * installed, as many dependencies do, but no SDK).
 */
function nothingRecords(ins: Instruments): boolean {
  if (!ins.noopMeter) return false;
  const proxy = ins.tracerProvider as { getDelegate?: () => unknown };
  return typeof proxy.getDelegate === 'function' && proxy.getDelegate() === ins.noopTracerProvider;
}

/** One store's spans and metrics. */
export class StoreTelemetry {
  readonly #option: TelemetryOption;
  readonly #storeName: () => string;
  #instruments: Instruments | undefined;

  /** `storeName` may be a function: read on the first traced call. */
  constructor(option: TelemetryOption | undefined, storeName: string | (() => string)) {
    this.#option = option ?? true;
    this.#storeName = typeof storeName === 'function' ? storeName : () => storeName;
  }

  /** The API, or null when telemetry is off or not installed; a promise only before the first load. */
  api(): Api | null | Promise<Api | null> {
    return this.#option === false ? null : otelApi();
  }

  /**
   * Runs one store call in a CLIENT span named `<op> <namespace>` (or `<op>`), with the database
   * attributes, and records its latency and, on failure, its error code.
   */
  async trace<T>(api: Api, op: string, server: ServerInfo | undefined, agentId: string | undefined, fn: (rec: CallRecorder) => Promise<T>): Promise<T> {
    const ins = this.#resolve(api);
    if (nothingRecords(ins)) return fn(NO_RECORDER);
    // Two fresh objects, not `{ ...base }` plus a property (a slow path in Node 20's V8).
    const base = baseAttributes(ins, op, server);
    const spanAttrs = baseAttributes(ins, op, server);
    if (agentId !== undefined) spanAttrs[ATTR.agentId] = agentId;
    const parent = api.context.active();
    const span = ins.tracer.startSpan(server?.namespace ? `${op} ${server.namespace}` : op, { kind: api.SpanKind.CLIENT, attributes: spanAttrs }, parent);
    const recording = span.isRecording();
    const rec: CallRecorder = recording
      ? {
          recording,
          set(attributes) {
            for (const [k, v] of Object.entries(attributes)) if (v !== undefined) span.setAttribute(k, v);
          },
        }
      : NO_RECORDER;
    const started = performance.now();
    try {
      const out = await api.context.with(api.trace.setSpan(parent, span), () => fn(rec));
      ins.duration.record((performance.now() - started) / 1000, base);
      return out;
    } catch (err) {
      const code = errorType(err);
      const attrs = { ...base, 'error.type': code };
      ins.duration.record((performance.now() - started) / 1000, attrs);
      ins.failures.add(1, attrs);
      span.setAttribute('error.type', code);
      // The code only: a driver's message may quote values or addresses.
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: code });
      throw err;
    } finally {
      span.end();
    }
  }

  #resolve(api: Api): Instruments {
    const opt = typeof this.#option === 'object' ? this.#option : {};
    // The global meter provider is not a proxy: look it up each call (cheap) so an SDK
    // registered after the store was made is still used.
    const tracerProvider = opt.tracerProvider ?? api.trace.getTracerProvider();
    const meterProvider = opt.meterProvider ?? api.metrics.getMeterProvider();
    const cached = this.#instruments;
    if (cached && cached.api === api && cached.tracerProvider === tracerProvider && cached.meterProvider === meterProvider) return cached;
    const tracer = (tracerProvider as OtelApi.TracerProvider).getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    const meter = (meterProvider as OtelApi.MeterProvider).getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    const duration = meter.createHistogram(METRIC.duration, {
      description: 'Duration of agent-sessions store calls',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] },
    });
    const failures = meter.createCounter(METRIC.failures, {
      description: 'Failed agent-sessions store calls, by error code (error.type)',
      unit: '{call}',
    });
    const store = this.#storeName();
    const noopMeter = typeof api.createNoopMeter === 'function' && meter === api.createNoopMeter();
    const noopTracerProvider = typeof api.ProxyTracerProvider === 'function' ? new api.ProxyTracerProvider().getDelegate() : undefined;
    this.#instruments = { api, store, system: dbSystem(store), tracer, tracerProvider, meterProvider, duration, failures, noopMeter, noopTracerProvider };
    return this.#instruments;
  }
}

/** The attributes of every span and measurement of one store call. */
function baseAttributes(ins: Instruments, op: string, server: ServerInfo | undefined): OtelApi.Attributes {
  const attrs: OtelApi.Attributes = {};
  attrs['db.system'] = ins.system;
  attrs['db.system.name'] = ins.system;
  attrs['db.operation.name'] = op;
  attrs[ATTR.store] = ins.store;
  if (server?.address) attrs['server.address'] = server.address;
  if (server?.port) attrs['server.port'] = server.port;
  if (server?.namespace) attrs['db.namespace'] = server.namespace;
  return attrs;
}

/** The `error.type` of a failure: the AgentSessionsError code, else the error's class name. */
export function errorType(err: unknown): string {
  if (isAgentSessionsError(err)) return err.code;
  return err instanceof Error ? err.name : 'unknown';
}


/**
 * Runs one wrapped turn in an INTERNAL span, so the store calls it makes (load, save) nest under
 * it. Without `@opentelemetry/api` (or with `telemetry: false` on the wrapper) it just runs `fn`.
 * `fn` gets a setter for attributes learned later (items saved, the run's status).
 *
 * ```ts
 * return withTurnSpan('turn openai-agents', { framework: 'openai-agents', agentId }, async (span) => {
 *   const history = await load();   // readHistory: a child span
 *   const result = await run();
 *   await save(result);             // appendRun: a child span
 *   span.set({ [ATTR.itemCount]: saved.length });
 *   return result;
 * });
 * ```
 */
export async function withTurnSpan<T>(
  name: string,
  attributes: TurnSpanAttributes,
  fn: (span: CallRecorder) => Promise<T>,
  options: { telemetry?: TelemetryOption | undefined } = {},
): Promise<T> {
  const opt = options.telemetry ?? true;
  if (opt === false) return fn(NO_RECORDER);
  const found = otelApi();
  const api = found instanceof Promise ? await found : found;
  if (!api) return fn(NO_RECORDER);
  const provider = (typeof opt === 'object' ? opt.tracerProvider : undefined) ?? api.trace.getTracerProvider();
  const tracer = (provider as OtelApi.TracerProvider).getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const attrs: OtelApi.Attributes = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined) continue;
    attrs[k === 'framework' ? ATTR.framework : k === 'agentId' ? ATTR.agentId : k] = v;
  }
  const parent = api.context.active();
  const span = tracer.startSpan(name, { kind: api.SpanKind.INTERNAL, attributes: attrs }, parent);
  const rec: CallRecorder = span.isRecording()
    ? {
        recording: true,
        set(more) {
          for (const [k, v] of Object.entries(more)) if (v !== undefined) span.setAttribute(k, v);
        },
      }
    : NO_RECORDER;
  try {
    return await api.context.with(api.trace.setSpan(parent, span), () => fn(rec));
  } catch (err) {
    const code = errorType(err);
    span.setAttribute('error.type', code);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: code });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A turn span that stays open across calls that do not nest (a stream's generator, a
 * middleware's before and after hooks): each `run(task)` executes inside the span's context, so
 * the store calls it makes are children of the turn; `end()` closes the span (with the error's
 * code, if given). Made by `openTurn`.
 */
export class OpenTurn {
  private readonly queue: (() => Promise<void>)[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private error: unknown;
  private recorder: CallRecorder = NO_RECORDER;
  /** Settles once the span has ended; never rejects. */
  readonly closed: Promise<void>;

  constructor(name: string, attributes: TurnSpanAttributes, telemetry: TelemetryOption | undefined) {
    this.closed = withTurnSpan(
      name,
      attributes,
      async (span) => {
        this.recorder = span;
        for (;;) {
          while (this.queue.length > 0) await this.queue.shift()!();
          if (this.ended) {
            if (this.error !== undefined) throw this.error;
            return;
          }
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
        }
      },
      { telemetry },
    ).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs `task` inside the turn's span (directly once the turn has ended). */
  run<T>(task: (span: CallRecorder) => Promise<T>): Promise<T> {
    if (this.ended) return task(this.recorder);
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => task(this.recorder).then(resolve, reject));
      this.wake?.();
    });
  }

  /** Ends the span once queued tasks are done; an error marks it failed. Later calls do nothing. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.wake?.();
  }
}

/** Opens a turn span (`withTurnSpan`'s span) that later calls run inside until `end()`. */
export function openTurn(name: string, attributes: TurnSpanAttributes, options: { telemetry?: TelemetryOption | undefined } = {}): OpenTurn {
  return new OpenTurn(name, attributes, options.telemetry);
}
